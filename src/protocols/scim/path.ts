// PATCH operation paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`, parsed strictly
// to an immutable node; the `[...]` part is a value filter parsed by filter.ts's parser.
//
// Accepted: `members`, `name.givenName`, `members[value eq "abc"]`, `emails[type eq "work"].value`,
// and schema-URI paths such as `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`
// or `…:User:manager.value`. No whitespace is allowed outside the brackets (none is in the ABNF);
// inside them the filter's whitespace rules apply. `name.givenName[...]`, `emails[...].type.x` and
// anything malformed fail with ScimSyntaxError, status 400 and scimType `invalidPath`.

import { ScimSyntaxParser, filterNode, printAttributePath, printFilter } from './filter.js';
import type { AttributePath, Filter } from './filter.js';

export interface PatchPath {
  readonly kind: 'PatchPath';
  /**
   * The attribute and the sub-attribute to act on. With `filter`, `emails[type eq "work"].value`
   * is `{ attribute: emails.value, filter: type eq "work" }`, the sub-attribute having come after "]".
   */
  readonly attribute: AttributePath;
  /** The value filter selecting elements of a multi-valued attribute; its paths are sub-attribute names. */
  readonly filter?: Filter;
}

export function patchPath(attribute: AttributePath, filter?: Filter): PatchPath {
  return Object.freeze({ kind: 'PatchPath' as const, attribute, ...(filter === undefined ? {} : { filter }) });
}

/** Parses the `path` of a PATCH operation. Throws ScimSyntaxError (400 invalidPath). */
export function parsePath(text: string): PatchPath {
  const parser = new ScimSyntaxParser(text, 'invalidPath');
  const attribute = parser.attributePath('full');
  if (parser.text[parser.pos] !== '[') {
    parser.end('the end of the path, or "[" after a multi-valued attribute', false);
    return patchPath(attribute);
  }
  if (attribute.subAttribute !== undefined) parser.fail('the end of the path; a sub-attribute cannot have a value filter');
  const filter = parser.bracket();
  if (parser.text[parser.pos] === '.') {
    parser.pos++;
    const sub = parser.attributeName();
    parser.end('the end of the path after the sub-attribute', false);
    return patchPath(filterNode.path(attribute.name, sub, attribute.schema), filter);
  }
  parser.end('the end of the path, or ".subAttribute" after "]"', false);
  return patchPath(attribute, filter);
}

export function printPath(path: PatchPath): string {
  if (path.filter === undefined) return printAttributePath(path.attribute);
  const { subAttribute, ...attribute } = path.attribute;
  const sub = subAttribute === undefined ? '' : `.${subAttribute}`;
  return `${printAttributePath(attribute)}[${printFilter(path.filter)}]${sub}`;
}
