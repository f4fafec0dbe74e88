// What the audit coverage tests share: the routes a built app serves, the events written after a
// point, who wrote them, a check that no secret reached any event, and an IdP's metadata to import.

import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createSpKeyPair } from '../../src/federation/sp-certificate.js';
import type { TestServer } from '../helpers/server.js';

/** Fastify's route tree of a second app built on the test server's registry (printRoutes, no common prefix). */
export async function routeTree(server: TestServer): Promise<string> {
  const app = await buildApp(server.reg);
  await app.ready();
  const tree = app.printRoutes({ commonPrefix: false });
  await app.close();
  return tree;
}

/**
 * Every route the app serves, from Fastify's own route tree (printRoutes without a common prefix),
 * as `METHOD /path`, followed by its constraints when it has any: a second route on the same path
 * (told apart by a constraint) is printed on a line of its own, without the branch.
 */
export function allRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:[├└]── )?(\S+) \(([^)]+)\)(?: (\{.*\}))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const branch = /[├└]── /.test(line);
    if (branch) {
      stack.length = m[1]!.length / 4;
      stack.push(m[2]!);
    }
    for (const method of m[3]!.split(', ')) out.push(`${method} ${stack.join('')}${m[4] ? ` ${m[4]}` : ''}`);
  }
  return out;
}

/** The routes under `prefix` with a method that can change something: all but GET and HEAD. */
export function mutatingRoutes(tree: string, prefix = '/'): string[] {
  return allRoutes(tree).filter((r) => !/^(GET|HEAD) /.test(r) && r.slice(r.indexOf(' ') + 1).startsWith(prefix));
}

/** Every route under one of `prefixes`, whatever its method but HEAD. */
export function routesUnder(tree: string, prefixes: string[]): string[] {
  return allRoutes(tree).filter((r) => !r.startsWith('HEAD ') && prefixes.some((p) => r.slice(r.indexOf(' ') + 1).startsWith(p)));
}

/** A request signed by the AWS SDK's own SigV4 signer (with the test server's admin key unless told); the body of its answer, or an error. */
export async function signedFetch(
  server: TestServer,
  service: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  query: Record<string, string> = {},
  credentials = server.credentials,
): Promise<string> {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service, region: 'us-east-1', credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query, headers: { host: url.host, ...headers }, body });
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(`${server.url}${path}${qs ? `?${qs}` : ''}`, { method, headers: signed.headers, body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text;
}

export interface EventRow {
  seq: number;
  event_name: string;
  event_type: string;
  error_code: string | null;
  user_identity: string;
  request_parameters: string | null;
  response_elements: string | null;
}

export async function lastSeq(server: TestServer): Promise<number> {
  const db = server.reg.database.db;
  return Number((await db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow()).m ?? 0);
}

export async function eventsAfter(server: TestServer, seq: number): Promise<EventRow[]> {
  return server.reg.database.db.selectFrom('audit_events').selectAll().where('seq', '>', seq).orderBy('seq').execute();
}

export const identityOf = (row: EventRow) => JSON.parse(row.user_identity) as { type: string; userName?: string; accessKeyId?: string; principalId?: string };

/** Every secret the test saw (passwords, tokens, secret keys, client secrets, TOTP seeds) is absent from every event. */
export async function expectNoSecretInAnyEvent(server: TestServer, secrets: Iterable<string>): Promise<number> {
  const rows = await server.reg.database.db.selectFrom('audit_events').selectAll().execute();
  const text = rows.map((r) => JSON.stringify(r)).join('\n');
  let checked = 0;
  for (const secret of secrets) {
    // Short values (a 6-digit code) could match by chance; every secret here is long.
    expect(secret.length).toBeGreaterThanOrEqual(8);
    expect(text.includes(secret), `a secret (${secret.slice(0, 4)}…) is in an audit event`).toBe(false);
    checked++;
  }
  expect(rows.length).toBeGreaterThan(0);
  return checked;
}

/** A SAML IdP's metadata with a fresh signing certificate. */
export async function idpMetadata(entityId = 'https://idp.cov.test/metadata'): Promise<string> {
  const { certificatePem } = await createSpKeyPair('cov-idp', Date.now(), 2);
  const der = certificatePem.replace(/-----[^-]+-----|\s/g, '');
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">` +
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.cov.test/sso"/>' +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}
