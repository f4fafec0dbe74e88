// Properties of the filter language: every printed AST parses back to itself; `matches` agrees with
// a plain reference evaluation (filter.testing.ts) from the documented rules; and broken or hostile
// input fails with invalidFilter, never another error, a stack overflow or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPARE_OPERATORS, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, filterNode, parseFilter, printFilter } from './filter.js';
import type { Filter } from './filter.js';
import { matches } from './filter-match.js';
import type { AttributeCharacteristics } from './filter-match.js';
import {
  USER_SCHEMA,
  arbitraryFilter,
  arbitraryUser,
  arbitraryUserComparison,
  arbitraryUserFilter,
  arbitraryUserPath,
  expectParsedOrRefused,
  referenceMatches,
  syntaxErrorOf,
} from './filter.testing.js';

describe('round trip', () => {
  it('parses every printed filter back to the same AST, and prints it the same again', () => {
    fc.assert(
      fc.property(arbitraryFilter, (filter) => {
        const text = printFilter(filter);
        fc.pre(text.length <= MAX_FILTER_LENGTH);
        const parsed = parseFilter(text);
        expect(parsed).toEqual(filter);
        expect(printFilter(parsed)).toBe(text);
      }),
      { numRuns: 400 },
    );
  });

  it('does not care about case or extra spaces around the syntax', () => {
    const noisy = (text: string) =>
      text
        .replace(/ (and|or) /g, (_, w: string) => `  ${w.toUpperCase()}\t `)
        .replace(/ (eq|ne|co|sw|ew|gt|ge|lt|le) /g, (_, op: string) => ` ${op[0]!.toUpperCase()}${op.slice(1)}  `)
        .replace(/\(/g, '( ')
        .replace(/\[/g, '[ ');
    fc.assert(
      fc.property(arbitraryUserFilter, (filter) => {
        expect(parseFilter(` ${noisy(printFilter(filter))}\n`)).toEqual(filter);
      }),
      { numRuns: 200 },
    );
  });
});

const userCharacteristics: AttributeCharacteristics = {
  caseExact: (p) => p.schema === undefined && p.subAttribute === undefined && p.name.toLowerCase() === 'id',
  type: (p) => (p.schema === undefined && `${p.name}.${p.subAttribute}`.toLowerCase() === 'meta.created' ? 'dateTime' : undefined),
};

describe('evaluation', () => {
  it('agrees with the plain reference on random filters and resources', () => {
    let matched = 0;
    fc.assert(
      fc.property(arbitraryUserFilter, arbitraryUser, (filter, user) => {
        const expected = referenceMatches(filter, user);
        expect(matches(filter, user, userCharacteristics)).toBe(expected);
        if (expected) matched++;
      }),
      { numRuns: 500 },
    );
    // The property is only worth something if both answers occur often.
    expect(matched).toBeGreaterThan(50);
    expect(matched).toBeLessThan(450);
  });

  it('agrees with the plain reference on single comparisons', () => {
    fc.assert(
      fc.property(arbitraryUserComparison, arbitraryUser, (filter, user) => {
        expect(matches(filter, user, userCharacteristics)).toBe(referenceMatches(filter, user));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the plain reference on literals taken from the resource', () => {
    // Substrings of the resource's own strings, in either case, and its own numbers, make
    // co/sw/ew, ordering and case rules decide the answer far more often than a fixed pool does.
    const leaves = (v: unknown): unknown[] =>
      Array.isArray(v) ? v.flatMap(leaves) : typeof v === 'object' && v !== null ? Object.values(v).flatMap(leaves) : [v];
    const cases = arbitraryUser.chain((user) => {
      const own = leaves(user).filter((v): v is string | number => (typeof v === 'string' && v !== '') || typeof v === 'number');
      const literal = own.length === 0
        ? fc.constant<string | number>('x')
        : fc.tuple(fc.constantFrom(...own), fc.nat(), fc.nat(), fc.boolean()).map(([v, i, j, upper]) => {
            if (typeof v === 'number') return v;
            const start = i % v.length;
            const piece = v.slice(start, start + 1 + (j % (v.length - start)));
            return upper ? piece.toUpperCase() : piece;
          });
      return fc.tuple(arbitraryUserPath, fc.constantFrom(...COMPARE_OPERATORS), literal).map(([p, op, v]) => [filterNode.compare(p, op, v), user] as const);
    });
    fc.assert(
      fc.property(cases, ([filter, user]) => {
        expect(matches(filter, user, userCharacteristics)).toBe(referenceMatches(filter, user));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same answer for the printed-and-parsed filter', () => {
    fc.assert(
      fc.property(arbitraryUserFilter, arbitraryUser, (filter, user) => {
        expect(matches(parseFilter(printFilter(filter)), user, userCharacteristics)).toBe(matches(filter, user, userCharacteristics));
      }),
      { numRuns: 200 },
    );
  });

  it('resolves the enterprise extension like the reference', () => {
    const user = { schemas: [USER_SCHEMA.core], [USER_SCHEMA.enterprise]: { employeeNumber: '701984' } };
    const filter = parseFilter(`${USER_SCHEMA.enterprise}:employeeNumber eq "701984"`);
    expect(matches(filter, user)).toBe(true);
    expect(referenceMatches(filter, user)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

const expectInvalidFilter = (text: string) => void syntaxErrorOf(() => parseFilter(text), 'invalidFilter');

describe('invalid input', () => {
  const printed = arbitraryFilter.map(printFilter).filter((t) => t.length < MAX_FILTER_LENGTH - 8);
  const hasString = (f: Filter): boolean =>
    f.kind === 'Comparison' ? typeof f.value === 'string' : f.kind === 'Present' ? false : f.kind === 'Not' || f.kind === 'ValuePath' ? hasString(f.filter) : f.filters.some(hasString);
  const withBadOperator = (f: Filter, bad: string): Filter => {
    switch (f.kind) {
      case 'Comparison':
        return { ...f, operator: bad as 'eq' };
      case 'Present':
        return f;
      case 'Not':
      case 'ValuePath':
        return { ...f, filter: withBadOperator(f.filter, bad) };
      default:
        return { ...f, filters: [withBadOperator(f.filters[0]!, bad), ...f.filters.slice(1)] };
    }
  };
  const hasComparison = (f: Filter): boolean =>
    f.kind === 'Comparison' || (f.kind === 'Present' ? false : f.kind === 'Not' || f.kind === 'ValuePath' ? hasComparison(f.filter) : hasComparison(f.filters[0]!));

  it('refuses mutations of valid filters', () => {
    const mutations = fc.oneof(
      printed.map((t) => `(${t}`), // an unclosed parenthesis
      printed.map((t) => `${t})`), // a stray one
      printed.map((t) => `${t} and`), // a dangling operand
      printed.map((t) => `${t} ${t}`), // two filters without a logical operator
      arbitraryFilter.filter(hasString).map((f) => {
        const t = printFilter(f);
        const last = t.lastIndexOf('"');
        return t.slice(0, last) + t.slice(last + 1); // the last string loses its closing quote
      }),
      fc
        .tuple(arbitraryFilter.filter(hasComparison), fc.constantFrom('eqq', '=', '==', '!=', 'equals', 'like', 'in', 'e', 'EQUALS', '<'))
        .map(([f, bad]) => printFilter(withBadOperator(f, bad))),
      fc.tuple(printed, fc.constantFrom('not not ', '] ', ') ', '"', '. ', 'eq ')).map(([t, junk]) => junk + t),
    );
    fc.assert(fc.property(mutations, expectInvalidFilter), { numRuns: 400 });
  });

  it('refuses deep nesting of every kind without overflowing the stack', () => {
    const open = fc.constantFrom('(', 'not (', 'not(', ' ( ');
    fc.assert(
      fc.property(fc.integer({ min: MAX_FILTER_DEPTH + 1, max: 3000 }), open, fc.boolean(), (depth, opener, closed) => {
        const body = `${opener.repeat(depth)}a pr${closed ? ')'.repeat(depth) : ''}`;
        expectInvalidFilter(`emails[${body}]`.length > MAX_FILTER_LENGTH ? body : `emails[${body}]`);
      }),
      { numRuns: 60 },
    );
  });

  it('answers any input with a filter or invalidFilter', () => {
    const alphabet = fc.stringMatching(/^[a-zA-Z .:"\\[\]()0-9-]{0,60}$/);
    const noisy = fc.tuple(printed, fc.nat(), fc.string({ unit: 'binary', maxLength: 3 })).map(([t, at, junk]) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + junk + t.slice(i + (at % 3));
    });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), alphabet, noisy, printed.map((t) => t.slice(0, t.length >> 1))), (text) => {
        expectParsedOrRefused(() => parseFilter(text), 'invalidFilter');
      }),
      { numRuns: 500 },
    );
  });

  it('refuses anything longer than the limit, before parsing it', () => {
    expectInvalidFilter(`${'('.repeat(MAX_FILTER_LENGTH)}a pr${')'.repeat(MAX_FILTER_LENGTH)}`);
    expectInvalidFilter(`a eq "${'x'.repeat(1_000_000)}"`);
  });
});
