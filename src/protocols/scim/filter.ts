// The SCIM filter language (RFC 7644 §3.4.2.2): a strict parser to an immutable AST, and a printer.
// The evaluator is `filter-match.ts`; PATCH paths (`path.ts`) reuse this parser for their `[...]`.
//
// Grammar (RFC 7644 Figure 1), every rule covered:
//   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//   valuePath = attrPath "[" valFilter "]"
//   valFilter = attrExp / logExp / *1"not" "(" valFilter ")"
//   attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//   logExp    = FILTER SP ("and" / "or") SP FILTER          ; "and" binds tighter than "or"
//   compValue = false / null / true / number / string      ; JSON (RFC 8259), escapes included
//   compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//   attrPath  = [URI ":"] ATTRNAME *1subAttr               ; e.g. urn:…:enterprise:2.0:User:manager.value
//   ATTRNAME  = ALPHA *("-" / "_" / DIGIT / ALPHA)          ; RFC 7643 §2.1, plus the name "$ref"
//   subAttr   = "." ATTRNAME
// Decisions where the RFC is loose, all deliberate:
// - Operators, "and", "or", "not" and attribute names are case-insensitive; JSON literals
//   (true/false/null) are lowercase, as in JSON. The AST keeps names as written.
// - Whitespace (SP, HTAB, CR, LF) may be repeated, and may lead, trail, and pad the inside of
//   "(...)" and "[...]" and follow "not". Where the ABNF has SP it is still required: `title pr`,
//   `a eq 1`, ` and `, ` or ` (so `(a pr)and(b pr)` is refused). Okta sends trailing spaces.
// - Inside `attr[...]` the attribute paths are bare sub-attribute names: RFC 7643 §2.3.8 forbids
//   complex sub-attributes, so `emails[type.x eq 1]`, a URI there, or a nested `[...]` is an error.
//   A valuePath's own attribute has no sub-attribute (`name.x[...]` is an error).
// - `emails[type eq "work"].value eq "x"` (not in the ABNF) is accepted because Microsoft Entra ID
//   queries users so ("Tutorial: Develop and plan provisioning for a SCIM endpoint", /Users): it
//   means one element matching both, and parses to `emails[type eq "work" and value eq "x"]`.
// - The schema URI is everything before the last ":" of the path; it must look like a URI
//   (scheme ":" then unreserved, sub-delims, "%", ":", "@", "/"). Numbers must be finite doubles.
// - Abuse limits: at most MAX_FILTER_LENGTH characters and MAX_FILTER_DEPTH nested "(", "[" or
//   "not (". Both fail as `invalidFilter`, and the depth check runs before recursing, so no input
//   can overflow the stack. Every error is a ScimSyntaxError with the offset and what was expected.
//
// Why our own parser, not scim2-parse-filter 0.2.10 (nor scimmy, which accepts malformed filters):
// tried on real input, scim2-parse-filter accepts `not title pr` (no parentheses), nested
// `a[b[c eq 1]]`, and names such as `a/b%c`; it keeps `\u0041` as the six characters `\\u0041`
// and refuses the valid `"a\\"`; it turns `emails[type eq "w"].value eq "x"` into an `and` that two
// different emails may meet; it throws a plain Error without an offset; and 20,000 "(" overflow
// its stack (RangeError). Fixing that is a rewrite, and the grammar is small, so we own a few
// hundred lines instead of a dependency.

import { ScimSyntaxError } from './errors.js';

export const MAX_FILTER_LENGTH = 4096;
export const MAX_FILTER_DEPTH = 32;

export const COMPARE_OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOperator = (typeof COMPARE_OPERATORS)[number];
/** A JSON literal. Numbers are finite. */
export type CompareValue = string | number | boolean | null;

export interface AttributePath {
  readonly kind: 'AttributePath';
  /** The schema URI prefix without its trailing ":", as written; absent for a bare name. */
  readonly schema?: string;
  readonly name: string;
  readonly subAttribute?: string;
}

export interface ComparisonFilter {
  readonly kind: 'Comparison';
  readonly path: AttributePath;
  readonly operator: CompareOperator;
  readonly value: CompareValue;
}

export interface PresentFilter {
  readonly kind: 'Present';
  readonly path: AttributePath;
}

/** Two or more operands; a chain `a and b and c` is one node, and only parentheses nest them. */
export interface AndFilter {
  readonly kind: 'And';
  readonly filters: readonly Filter[];
}

export interface OrFilter {
  readonly kind: 'Or';
  readonly filters: readonly Filter[];
}

export interface NotFilter {
  readonly kind: 'Not';
  readonly filter: Filter;
}

/** `emails[type eq "work"]`: `filter`'s paths are sub-attributes of `path` (bare names). */
export interface ValuePathFilter {
  readonly kind: 'ValuePath';
  readonly path: AttributePath;
  readonly filter: Filter;
}

export type Filter = ComparisonFilter | PresentFilter | AndFilter | OrFilter | NotFilter | ValuePathFilter;

/** Frozen node constructors, so that an AST built by hand looks exactly like a parsed one. */
export const filterNode = Object.freeze({
  path(name: string, subAttribute?: string, schema?: string): AttributePath {
    return Object.freeze({
      kind: 'AttributePath' as const,
      ...(schema === undefined ? {} : { schema }),
      name,
      ...(subAttribute === undefined ? {} : { subAttribute }),
    });
  },
  compare(path: AttributePath, operator: CompareOperator, value: CompareValue): ComparisonFilter {
    return Object.freeze({ kind: 'Comparison' as const, path, operator, value });
  },
  present(path: AttributePath): PresentFilter {
    return Object.freeze({ kind: 'Present' as const, path });
  },
  and(filters: readonly Filter[]): AndFilter {
    return Object.freeze({ kind: 'And' as const, filters: Object.freeze([...filters]) });
  },
  or(filters: readonly Filter[]): OrFilter {
    return Object.freeze({ kind: 'Or' as const, filters: Object.freeze([...filters]) });
  },
  not(filter: Filter): NotFilter {
    return Object.freeze({ kind: 'Not' as const, filter });
  },
  valuePath(path: AttributePath, filter: Filter): ValuePathFilter {
    return Object.freeze({ kind: 'ValuePath' as const, path, filter });
  },
});

/** Parses a filter, e.g. from `?filter=`. Throws ScimSyntaxError (400 invalidFilter). */
export function parseFilter(text: string): Filter {
  const parser = new ScimSyntaxParser(text, 'invalidFilter');
  const filter = parser.filter('filter');
  parser.end('"and", "or" or the end of the filter');
  return filter;
}

export function printAttributePath(path: AttributePath): string {
  const prefix = path.schema === undefined ? '' : `${path.schema}:`;
  const suffix = path.subAttribute === undefined ? '' : `.${path.subAttribute}`;
  return `${prefix}${path.name}${suffix}`;
}

/** Prints the canonical text: lowercase operators, single spaces, only the parentheses needed. */
export function printFilter(filter: Filter): string {
  switch (filter.kind) {
    case 'Comparison':
      return `${printAttributePath(filter.path)} ${filter.operator} ${JSON.stringify(filter.value)}`;
    case 'Present':
      return `${printAttributePath(filter.path)} pr`;
    case 'And':
      return filter.filters.map((f) => (f.kind === 'And' || f.kind === 'Or' ? `(${printFilter(f)})` : printFilter(f))).join(' and ');
    case 'Or':
      return filter.filters.map((f) => (f.kind === 'Or' ? `(${printFilter(f)})` : printFilter(f))).join(' or ');
    case 'Not':
      return `not (${printFilter(filter.filter)})`;
    case 'ValuePath':
      return `${printAttributePath(filter.path)}[${printFilter(filter.filter)}]`;
  }
}

/** Inside `attr[...]` (value) the attribute paths are bare sub-attribute names. */
type Scope = 'filter' | 'value';

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
/** Characters that end an attribute path or a bare literal. */
const isDelimiter = (c: string | undefined) =>
  c === undefined || isSpace(c) || c === '(' || c === ')' || c === '[' || c === ']' || c === '"';
const ATTRNAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~%!$&'*+,;=:@/]*$/;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The scanner and recursive-descent parser shared by filters and PATCH paths (path.ts). It reads
 * `text` from `pos`; every failure is a ScimSyntaxError carrying `scimType`.
 * @internal exported for path.ts only.
 */
export class ScimSyntaxParser {
  pos = 0;
  private depth = 0;
  private readonly noun: string;

  constructor(
    readonly text: string,
    private readonly scimType: 'invalidFilter' | 'invalidPath',
  ) {
    this.noun = scimType === 'invalidFilter' ? 'filter' : 'path';
    if (typeof text !== 'string') this.fail(`a ${this.noun} string`, 0, typeof text);
    if (text.length > MAX_FILTER_LENGTH) {
      this.fail(`at most ${MAX_FILTER_LENGTH} characters`, MAX_FILTER_LENGTH, `the ${this.noun} is ${text.length} characters long`);
    }
  }

  fail(expected: string, at = this.pos, found?: string): never {
    const what = found ?? this.describe(at);
    throw new ScimSyntaxError(this.scimType, at, expected, `Invalid ${this.noun} at offset ${at}: expected ${expected}, found ${what}.`);
  }

  private describe(at: number): string {
    if (at >= this.text.length) return 'the end';
    let end = at + 1;
    if (!isDelimiter(this.text[at])) while (end < this.text.length && end - at < 24 && !isDelimiter(this.text[end])) end++;
    return JSON.stringify(this.text.slice(at, end));
  }

  private skipSpaces(): number {
    const start = this.pos;
    while (isSpace(this.text[this.pos])) this.pos++;
    return this.pos - start;
  }

  /** Whitespace may trail (unless told otherwise); then the text must end. */
  end(expected: string, trailingSpaces = true): void {
    if (trailingSpaces) this.skipSpaces();
    if (this.pos < this.text.length) this.fail(expected);
  }

  /** FILTER or valFilter (scope value): an `or` of `and`s of units. */
  filter(scope: Scope): Filter {
    this.skipSpaces();
    const terms = [this.conjunction(scope)];
    while (this.keyword('or')) terms.push(this.conjunction(scope));
    return terms.length === 1 ? terms[0]! : filterNode.or(terms);
  }

  private conjunction(scope: Scope): Filter {
    const factors = [this.unit(scope)];
    while (this.keyword('and')) factors.push(this.unit(scope));
    return factors.length === 1 ? factors[0]! : filterNode.and(factors);
  }

  /** Consumes SP word SP if `word` comes next; otherwise leaves the position alone. */
  private keyword(word: 'and' | 'or'): boolean {
    const start = this.pos;
    if (this.skipSpaces() > 0 && this.text.slice(this.pos, this.pos + word.length).toLowerCase() === word) {
      const at = this.pos + word.length;
      const next = this.text[at];
      if (isSpace(next)) {
        this.pos = at;
        this.skipSpaces();
        return true;
      }
      if (next === undefined || next === '(') this.fail(`a space then a filter after "${word}"`, at);
    }
    this.pos = start;
    return false;
  }

  private unit(scope: Scope): Filter {
    const start = this.pos;
    if (this.text[this.pos] === '(') return this.group(scope, start);
    if (this.text.slice(this.pos, this.pos + 3).toLowerCase() === 'not') {
      this.pos += 3;
      this.skipSpaces();
      if (this.text[this.pos] === '(') return filterNode.not(this.group(scope, this.pos));
      this.pos = start; // an attribute that happens to be called "not"
    }
    const path = this.attributePath(scope === 'value' ? 'sub-attribute' : 'full');
    if (this.text[this.pos] === '[') {
      if (scope === 'value') this.fail('an operator; value filters do not nest');
      if (path.subAttribute !== undefined) this.fail('an operator; a sub-attribute cannot have a value filter');
      const filter = this.bracket();
      if (this.text[this.pos] !== '.') return filterNode.valuePath(path, filter);
      // Entra ID's `emails[type eq "work"].value eq "x"`: one element matching both.
      this.pos++;
      const sub = this.attrExpression(filterNode.path(this.attributeName()));
      return filterNode.valuePath(path, filterNode.and([...(filter.kind === 'And' ? filter.filters : [filter]), sub]));
    }
    return this.attrExpression(path);
  }

  /** SP compareOp SP compValue, or SP "pr", after `path`. */
  private attrExpression(path: AttributePath): Filter {
    if (this.skipSpaces() === 0) this.fail('a space then an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)');
    const opStart = this.pos;
    const operator = this.bareWord().toLowerCase();
    if (operator === 'pr') return filterNode.present(path);
    if (!(COMPARE_OPERATORS as readonly string[]).includes(operator)) {
      this.fail('an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)', opStart);
    }
    if (this.skipSpaces() === 0) this.fail('a space then a value (a JSON string, number, true, false or null)');
    return filterNode.compare(path, operator as CompareOperator, this.value());
  }

  private enter(at: number): void {
    if (++this.depth > MAX_FILTER_DEPTH) this.fail(`at most ${MAX_FILTER_DEPTH} levels of nesting`, at, 'a deeper one');
  }

  private group(scope: Scope, at: number): Filter {
    this.enter(at);
    this.pos++;
    const inner = this.filter(scope);
    this.close(')', '"and", "or" or ")"');
    return inner;
  }

  /** `[valFilter]`, starting at "["; leaves the position after "]". */
  bracket(): Filter {
    this.enter(this.pos);
    this.pos++;
    const inner = this.filter('value');
    this.close(']', '"and", "or" or "]"');
    return inner;
  }

  private close(closer: string, expected: string): void {
    this.skipSpaces();
    if (this.text[this.pos] !== closer) this.fail(expected);
    this.pos++;
    this.depth--;
  }

  private bareWord(): string {
    const start = this.pos;
    while (!isDelimiter(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * attrPath at the position. `full`: [URI ":"] ATTRNAME ["." ATTRNAME]; `sub-attribute`: one bare
   * ATTRNAME (inside `[...]`).
   */
  attributePath(form: 'full' | 'sub-attribute'): AttributePath {
    const start = this.pos;
    const word = this.bareWord();
    if (word === '') {
      const alternatives = this.noun === 'filter' || form === 'sub-attribute' ? ', "(" or "not ("' : '';
      this.fail(`${form === 'full' ? 'an attribute path' : 'a sub-attribute name'}${alternatives}`, start);
    }
    const colon = word.lastIndexOf(':');
    let schema: string | undefined;
    if (colon >= 0) {
      if (form === 'sub-attribute') this.fail('a sub-attribute name (no schema URI inside "[...]")', start);
      schema = word.slice(0, colon);
      if (!URI.test(schema)) this.fail('a schema URI (scheme ":" …) before the attribute name', start + this.firstBadUriChar(schema));
    }
    const names = word.slice(colon + 1).split('.');
    let offset = start + colon + 1;
    for (const [i, name] of names.entries()) {
      if (i > (form === 'full' ? 1 : 0)) this.fail(form === 'full' ? 'at most one sub-attribute' : 'a bare sub-attribute name', offset - 1, JSON.stringify('.'));
      if (!ATTRNAME.test(name)) {
        this.fail('an attribute name (a letter, then letters, digits, "-" or "_")', offset + this.firstBadNameChar(name));
      }
      offset += name.length + 1;
    }
    return filterNode.path(names[0]!, names[1], schema);
  }

  /** One ATTRNAME, e.g. after "]." in a PATCH path. */
  attributeName(): string {
    const start = this.pos;
    const word = this.bareWord();
    if (!ATTRNAME.test(word)) this.fail('a sub-attribute name (a letter, then letters, digits, "-" or "_")', start + this.firstBadNameChar(word));
    return word;
  }

  private firstBadNameChar(name: string): number {
    if (name === '' || !/[A-Za-z$]/.test(name[0]!)) return 0;
    for (let i = 1; i < name.length; i++) if (!/[A-Za-z0-9_-]/.test(name[i]!)) return i;
    return 0; // e.g. "$re": the whole name is wrong
  }

  private firstBadUriChar(uri: string): number {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(uri);
    if (scheme === null) return /^[A-Za-z]/.test(uri) ? uri.search(/[^A-Za-z0-9+.-]|$/) : 0;
    const bad = uri.slice(scheme[0].length).search(/[^A-Za-z0-9\-._~%!$&'*+,;=:@/]/);
    return bad < 0 ? 0 : scheme[0].length + bad;
  }

  /** compValue: a JSON literal (RFC 8259), finite numbers only. */
  private value(): CompareValue {
    if (this.text[this.pos] === '"') return this.string();
    const start = this.pos;
    const word = this.bareWord();
    const expected = 'a value (a JSON string, number, true, false or null)';
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (!JSON_NUMBER.test(word)) this.fail(expected, start);
    const n = Number(word);
    if (!Number.isFinite(n)) this.fail('a number within the range of a double', start);
    return n;
  }

  private string(): string {
    const open = this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('a closing quote for the string opened at offset ' + open);
      if (c === '"') break;
      if (c < ' ') this.fail('an escaped control character (JSON strings cannot hold it raw)', this.pos, `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.text[this.pos + 1];
      if (e === 'u') {
        const hex = this.text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail('four hex digits after "\\u"', this.pos + 2);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        this.pos += 2;
      } else {
        this.fail('a JSON escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)', this.pos);
      }
    }
    this.pos++;
    return out;
  }
}
