// SCIM's one error shape (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a `detail`
// that is written for the client. The /scim/v2 adapter turns it into the error body.

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The `scimType` values of RFC 7644 §3.12, Table 9. */
export const SCIM_TYPES = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
] as const;

export type ScimType = (typeof SCIM_TYPES)[number];

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  /** RFC 7644 sends the status as a string. */
  status: string;
  scimType?: ScimType;
  detail: string;
}

export class ScimError extends Error {
  override readonly name: string = 'ScimError';
  constructor(
    readonly status: number,
    /** RFC 7644 defines scimType for 400 (and 409 uniqueness) only; 404 and the like carry none. */
    readonly scimType: ScimType | undefined,
    /** Safe to show the client: it never carries an internal cause. */
    readonly detail: string,
  ) {
    super(detail);
  }

  toBody(): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(this.status), detail: this.detail };
    if (this.scimType !== undefined) body.scimType = this.scimType;
    return body;
  }
}

/**
 * A malformed filter or PATCH path (400 `invalidFilter` / `invalidPath`), with where it went wrong:
 * `offset` is the 0-based index into the text and `expected` names what the grammar wanted there.
 */
export class ScimSyntaxError extends ScimError {
  override readonly name: string = 'ScimSyntaxError';
  constructor(
    scimType: 'invalidFilter' | 'invalidPath',
    readonly offset: number,
    readonly expected: string,
    detail: string,
  ) {
    super(400, scimType, detail);
  }
}
