// The SCIM schemas Atrium serves (RFC 7643 §4.1–4.3, §5–7) as data: the User and Group schemas and
// the enterprise extension as far as the directory stores them, the service provider's configuration
// and resource types, and the attribute look-ups the mapping, PATCH and filters share.

import type { AttributePath } from './filter.js';
import type { AttributeCharacteristics, AttributeType } from './filter-match.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** The most resources one list response holds, and the page size when `count` is absent. */
export const MAX_RESULTS = 1000;
export const DEFAULT_COUNT = 100;
/** RFC 7644 §3.7.4: the most operations one /Bulk request holds, and its largest body in bytes. */
export const BULK_MAX_OPERATIONS = 1000;
export const BULK_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

/** An attribute definition as RFC 7643 §7 publishes it. */
export interface AttributeDefinition {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDefinition[];
}

type Options = Partial<Omit<AttributeDefinition, 'name' | 'type' | 'description'>>;

function attribute(name: string, type: AttributeType, description: string, opts: Options = {}): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...opts,
  };
}

const text = (name: string, description: string, opts: Options = {}) => attribute(name, 'string', description, opts);
const complex = (name: string, description: string, subAttributes: AttributeDefinition[], opts: Options = {}) =>
  attribute(name, 'complex', description, { subAttributes, ...opts });
const primary = attribute('primary', 'boolean', 'Whether this is the primary value; at most one is.');
const typed = (canonicalValues: string[]) => text('type', 'A label for the value\'s function.', { canonicalValues });
/** RFC 7643's `display` of a multi-valued attribute: accepted (Okta echoes it) and not kept. */
const ignoredDisplay = text('display', 'A label for display. Accepted and ignored; never returned.', { mutability: 'readOnly', returned: 'never' });
const multiValued = (name: string, description: string, canonicalValues: string[]) =>
  complex(name, description, [text('value', `The ${name} value.`), ignoredDisplay, typed(canonicalValues), primary], { multiValued: true });

/** RFC 7643 §4.1, limited to what the directory stores (see docs/ARCHITECTURE.md, Provisioning). */
export const USER_ATTRIBUTES: AttributeDefinition[] = [
  text('userName', 'Unique identifier for the user, used to sign in. Unique without regard to case.', { required: true, uniqueness: 'server' }),
  // Required here, as in AWS's identity store: the directory needs givenName and familyName.
  complex(
    'name',
    'The components of the user\'s name.',
    [
      text('formatted', 'The full name, formatted for display.'),
      text('familyName', 'The family name.', { required: true }),
      text('givenName', 'The given name.', { required: true }),
      text('middleName', 'The middle name(s).'),
      text('honorificPrefix', 'The honorific prefix(es), e.g. "Ms.".'),
      text('honorificSuffix', 'The honorific suffix(es), e.g. "III".'),
    ],
    { required: true },
  ),
  text('displayName', 'The name of the user, suitable for display; made from the name when not given.'),
  text('nickName', 'The casual way to address the user.'),
  attribute('profileUrl', 'reference', 'A URI of the user\'s online profile.', { referenceTypes: ['external'] }),
  text('title', 'The user\'s title, e.g. "Vice President".'),
  text('userType', 'The relationship between the organization and the user, e.g. "Employee".'),
  text('preferredLanguage', 'The preferred written or spoken language (RFC 7231 Accept-Language).'),
  text('locale', 'The default location for localization, e.g. "en-US".'),
  text('timezone', 'The time zone, in IANA format, e.g. "America/Los_Angeles".'),
  attribute('active', 'boolean', 'Whether the user may sign in. false disables the user: sessions and credentials are revoked.'),
  multiValued('emails', 'Email addresses; any number, at most one primary.', ['work', 'home', 'other']),
  multiValued('phoneNumbers', 'Phone numbers; any number, at most one primary.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  complex(
    'addresses',
    'Physical mailing addresses; any number, at most one primary.',
    [
      text('formatted', 'The full mailing address, formatted for display.'),
      text('streetAddress', 'The street address.'),
      text('locality', 'The city or locality.'),
      text('region', 'The state or region.'),
      text('postalCode', 'The postal code.'),
      text('country', 'The country, as an ISO 3166-1 alpha-2 code.'),
      typed(['work', 'home', 'other']),
      ignoredDisplay,
      primary,
    ],
    { multiValued: true },
  ),
  complex(
    'photos',
    'URLs of photos of the user; at most 3.',
    [attribute('value', 'reference', 'The URL of a photo.', { referenceTypes: ['external'] }), text('display', 'A label for the photo.'), typed(['photo', 'thumbnail']), primary],
    { multiValued: true },
  ),
  multiValued('roles', 'The user\'s roles, as free text.', []),
];

export const ENTERPRISE_USER_ATTRIBUTES: AttributeDefinition[] = [
  text('employeeNumber', 'A string identifier of the user, assigned by the organization.'),
  text('costCenter', 'The name of a cost center.'),
  text('organization', 'The name of an organization.'),
  text('division', 'The name of a division.'),
  text('department', 'The name of a department.'),
  complex('manager', 'The user\'s manager.', [
    text('value', 'The id of the manager\'s SCIM resource.'),
    attribute('$ref', 'reference', 'The URI of the manager\'s SCIM resource.', { referenceTypes: ['User'], mutability: 'readOnly' }),
    text('displayName', 'The manager\'s displayName. Not stored: ignored when sent, never returned.', { mutability: 'readOnly', returned: 'never' }),
  ]),
];

/**
 * RFC 7643 §4.2. The directory requires a display name (as AWS's does), and holds users only as
 * members: a member of type "Group" (a nested group) is refused for now.
 */
export const GROUP_ATTRIBUTES: AttributeDefinition[] = [
  text('displayName', 'The name of the group, unique without regard to case.', { required: true, uniqueness: 'server' }),
  complex(
    'members',
    'The users in the group; every member is returned, however many.',
    [
      text('value', 'The id of the member\'s User resource.', { caseExact: true, mutability: 'immutable' }),
      attribute('$ref', 'reference', 'The URI of the member\'s User resource.', { referenceTypes: ['User'], mutability: 'immutable' }),
      text('type', 'The type of the member: "User", or "Group" for a nested group.', { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
      text('display', 'The member\'s displayName. Ignored when sent.', { mutability: 'readOnly' }),
    ],
    { multiValued: true },
  ),
];

/** RFC 7643 §3.1: attributes of every resource, not listed in the resource's schema. */
export const COMMON_ATTRIBUTES: AttributeDefinition[] = [
  text('id', 'The identifier the service provider gave the resource.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  text('externalId', 'The identifier the provisioning client gave the resource.', { caseExact: true }),
  complex(
    'meta',
    'Resource metadata.',
    [
      text('resourceType', 'The name of the resource type.', { caseExact: true, mutability: 'readOnly' }),
      attribute('created', 'dateTime', 'When the resource was added.', { mutability: 'readOnly' }),
      attribute('lastModified', 'dateTime', 'When the resource was last changed.', { mutability: 'readOnly' }),
      attribute('location', 'reference', 'The URI of the resource.', { caseExact: true, mutability: 'readOnly' }),
      text('version', 'The version of the resource (its ETag).', { caseExact: true, mutability: 'readOnly' }),
    ],
    { mutability: 'readOnly' },
  ),
];

export interface SchemaDocument {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDefinition[];
}

export const SCHEMAS: SchemaDocument[] = [
  { id: USER_SCHEMA, name: 'User', description: 'User Account', attributes: USER_ATTRIBUTES },
  { id: ENTERPRISE_USER_SCHEMA, name: 'EnterpriseUser', description: 'Enterprise User', attributes: ENTERPRISE_USER_ATTRIBUTES },
  { id: GROUP_SCHEMA, name: 'Group', description: 'Group', attributes: GROUP_ATTRIBUTES },
];

const lower = (s: string) => s.toLowerCase();
const find = (list: readonly AttributeDefinition[] | undefined, name: string) => list?.find((a) => lower(a.name) === lower(name));

/**
 * The definition an attribute path names in the User resource (core, common or enterprise), or
 * undefined. Names and schema URIs compare case-insensitively (RFC 7643 §2.1).
 */
export function userAttribute(path: Pick<AttributePath, 'schema' | 'name' | 'subAttribute'>): AttributeDefinition | undefined {
  const schema = path.schema === undefined ? undefined : lower(path.schema);
  let top: AttributeDefinition | undefined;
  if (schema === lower(ENTERPRISE_USER_SCHEMA)) top = find(ENTERPRISE_USER_ATTRIBUTES, path.name);
  else if (schema === undefined || schema === lower(USER_SCHEMA)) top = find(USER_ATTRIBUTES, path.name) ?? find(COMMON_ATTRIBUTES, path.name);
  if (top === undefined || path.subAttribute === undefined) return top;
  return find(top.subAttributes, path.subAttribute);
}

/** The filter evaluator's view of the User schema: caseExact and types from the definitions above. */
export const userCharacteristics: AttributeCharacteristics = Object.freeze({
  caseExact: (path: AttributePath) => userAttribute(path)?.caseExact ?? false,
  type: (path: AttributePath) => userAttribute(path)?.type,
});

/** The definition an attribute path names in the Group resource (core or common), or undefined. */
export function groupAttribute(path: Pick<AttributePath, 'schema' | 'name' | 'subAttribute'>): AttributeDefinition | undefined {
  if (path.schema !== undefined && lower(path.schema) !== lower(GROUP_SCHEMA)) return undefined;
  const top = find(GROUP_ATTRIBUTES, path.name) ?? find(COMMON_ATTRIBUTES, path.name);
  return path.subAttribute === undefined ? top : find(top?.subAttributes, path.subAttribute);
}

/** The filter evaluator's view of the Group schema. */
export const groupCharacteristics: AttributeCharacteristics = Object.freeze({
  caseExact: (path: AttributePath) => groupAttribute(path)?.caseExact ?? false,
  type: (path: AttributePath) => groupAttribute(path)?.type,
});

/** A schema as /Schemas serves it (RFC 7643 §7). */
export function schemaResource(schema: SchemaDocument, baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    ...schema,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account: the same users the identitystore API and the access portal see.',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group: the same groups the identitystore API sees, with every member returned.',
      schema: GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

/** RFC 7643 §5: only what is supported today says `supported: true`. */
export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: BULK_MAX_OPERATIONS, maxPayloadSize: BULK_MAX_PAYLOAD_BYTES },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A SCIM bearer token from `atrium scim token create`, sent as "Authorization: Bearer <token>".',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}
