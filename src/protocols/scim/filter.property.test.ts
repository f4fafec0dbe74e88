// Properties of the filter language: every printed AST parses back to itself; `matches` agrees with
// a plain reference evaluation written here from the documented rules; and broken or hostile
// input fails with invalidFilter, never another error, a stack overflow or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPARE_OPERATORS, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, filterNode, parseFilter, printFilter } from './filter.js';
import type { AttributePath, Filter } from './filter.js';
import { matches } from './filter-match.js';
import type { AttributeCharacteristics } from './filter-match.js';
import { USER_SCHEMA, expectParsedOrRefused, syntaxErrorOf, arbitraryFilter, arbitraryUser, arbitraryUserComparison, arbitraryUserFilter, arbitraryUserPath } from './filter.testing.js';

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

// ---------------------------------------------------------------------------------------------
// The reference: a deliberately plain reading of the rules in filter-match.ts, for the one schema
// of filter.arbitraries.ts. It lower-cases every key of the resource first, and knows statically
// that "id" is caseExact and "meta.created" a dateTime.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function lowerKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) out[k.toLowerCase()] = lowerKeys(v);
  return out;
}

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function present(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(present);
  if (isObj(v)) return Object.values(v).some(present);
  return true;
}

function instantOf(s: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.test(s)) return null;
  const t = new Date(/(Z|[+-]\d\d:\d\d)$/.test(s) ? s : s + 'Z').getTime();
  return Number.isNaN(t) ? null : t;
}

function sign(a: string | number, b: string | number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** One value against one literal; `key` is the lower-case "attr.sub" the value sits at. */
function compareOne(op: string, actual: Json, expected: Json, key: string): boolean {
  if (expected === null || actual === null || typeof actual !== typeof expected) return false;
  if (typeof actual === 'boolean') return (op === 'eq' && actual === expected) || (op === 'ne' && actual !== expected);
  let a: string | number = actual as string | number;
  let e: string | number = expected as string | number;
  if (typeof a === 'string' && typeof e === 'string') {
    if (['co', 'sw', 'ew'].includes(op)) {
      if (key !== 'id') [a, e] = [a.toLowerCase(), e.toLowerCase()];
      return op === 'co' ? a.indexOf(e) !== -1 : op === 'sw' ? a.slice(0, e.length) === e : a.length >= e.length && a.slice(a.length - e.length) === e;
    }
    if (key === 'meta.created') {
      const [ia, ie] = [instantOf(a), instantOf(e)];
      if (ia === null || ie === null) return false;
      [a, e] = [ia, ie];
    } else if (key !== 'id') {
      [a, e] = [a.toLowerCase(), e.toLowerCase()];
    }
  } else if (['co', 'sw', 'ew'].includes(op)) {
    return false;
  }
  const s = sign(a, e);
  return { eq: s === 0, ne: s !== 0, gt: s > 0, ge: s >= 0, lt: s < 0, le: s <= 0 }[op] ?? false;
}

/** The values at `path` in `scope` (a lower-cased object): extension, core schema or top level. */
function valuesAt(scope: Obj, path: AttributePath): Json[] {
  let base: Json | undefined = scope;
  if (path.schema !== undefined) {
    const urn = path.schema.toLowerCase();
    const listed = asList(scope.schemas).some((s) => typeof s === 'string' && s.toLowerCase() === urn);
    base = isObj(scope[urn]) ? scope[urn] : listed ? scope : undefined;
  }
  if (!isObj(base)) return [];
  const own = asList(base[path.name.toLowerCase()]);
  if (path.subAttribute === undefined) return own;
  return own.flatMap((v) => (isObj(v) ? asList(v[path.subAttribute!.toLowerCase()]) : []));
}

function reference(filter: Filter, scope: Obj, parent = ''): boolean {
  if (filter.kind === 'And') return filter.filters.every((x) => reference(x, scope, parent));
  if (filter.kind === 'Or') return filter.filters.some((x) => reference(x, scope, parent));
  if (filter.kind === 'Not') return !reference(filter.filter, scope, parent);
  if (filter.kind === 'ValuePath') {
    const elements = valuesAt(scope, filter.path).filter(isObj);
    return elements.some((el) => reference(filter.filter, el, filter.path.name.toLowerCase()));
  }
  const values = valuesAt(scope, filter.path);
  if (filter.kind === 'Present') return values.some(present);
  const written = [parent, filter.path.name, filter.path.subAttribute].filter((x) => x).join('.').toLowerCase();
  if (filter.value === null) {
    if (filter.operator === 'eq') return !values.some(present);
    if (filter.operator === 'ne') return values.some(present);
    return false;
  }
  for (const v of values) {
    const [targets, key] = isObj(v) && filter.path.subAttribute === undefined ? [asList(v.value), `${written}.value`] : [[v], written];
    for (const t of targets) if (compareOne(filter.operator, t, filter.value, key)) return true;
  }
  return false;
}

const userCharacteristics: AttributeCharacteristics = {
  caseExact: (p) => p.schema === undefined && p.subAttribute === undefined && p.name.toLowerCase() === 'id',
  type: (p) => (p.schema === undefined && `${p.name}.${p.subAttribute}`.toLowerCase() === 'meta.created' ? 'dateTime' : undefined),
};

describe('evaluation', () => {
  it('agrees with the plain reference on random filters and resources', () => {
    let matched = 0;
    fc.assert(
      fc.property(arbitraryUserFilter, arbitraryUser, (filter, user) => {
        const expected = reference(filter, lowerKeys(user as Json) as Obj);
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
        expect(matches(filter, user, userCharacteristics)).toBe(reference(filter, lowerKeys(user as Json) as Obj));
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
        expect(matches(filter, user, userCharacteristics)).toBe(reference(filter, lowerKeys(user as Json) as Obj));
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
    expect(reference(filter, lowerKeys(user) as Obj)).toBe(true);
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
