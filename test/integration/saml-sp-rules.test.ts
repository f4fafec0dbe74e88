// The SP's rules on a verified assertion, without an IdP: on the injected clock, against a real
// store on both databases, and the one-time records (request, assertion id) shared by two processes.
// (An integration test, kept beside the pysaml2 peer test it complements.)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { initialize } from '../../src/init.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { fixedClock } from '../../src/shared/clock.js';
import { systemContext } from '../../src/shared/context.js';
import { isDomainError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logger.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';
import { CLOCK_SKEW_MS, REQUEST_TTL_MS, type AssertionFacts, type BrowserFacts } from '../../src/federation/index.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const IDP = 'https://idp.example/metadata';
const SP = { entityId: 'https://atrium.example/saml/metadata', acsUrl: 'https://atrium.example/saml/acs' };
const ctx = systemContext('signin.amazonaws.com', 'us-east-1', 'test');
/** The binding cookie of the browser that starts every sign-in here. */
const BROWSER = { binding: 'browser-binding-cookie-value-0123456789abcdefg' };
const ACCESS_CONTROL = 'https://aws.amazon.com/SAML/Attributes/AccessControl:';

describe.each(dialects())('FederationService on %s', (dialect) => {
  const clock = fixedClock(T0);
  let dataDir: string;
  let a: Registry;
  let b: Registry;
  let n = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-federation-'));
    const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
    const config = loadConfig({ dataDir, databaseUrl, logLevel: 'silent' }, {});
    // Two registries on one database: two processes.
    a = await createRegistry(config, { clock, log: createLogger('silent') });
    b = await createRegistry(config, { clock, log: createLogger('silent') });
    const init = await initialize(a, {});
    await a.directory.createUser(ctx, init.identityStoreId, { profile: { userName: 'alice', displayName: 'Alice', name: { givenName: 'A', familyName: 'B' } } });
    await a.federation.importIdp(ctx, { entityId: IDP, metadataXml: '<EntityDescriptor/>', nameIdMatch: 'userName' });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A request of ours, and facts of a good assertion answering it. */
  async function goodFacts(reg = a): Promise<AssertionFacts> {
    const requestId = `_req-${dialect}-${++n}`;
    await reg.federation.rememberRequest(requestId, '/start', BROWSER.binding);
    return {
      issuer: IDP,
      assertionId: `_assertion-${dialect}-${n}`,
      nameId: 'alice',
      audienceRestrictions: [[SP.entityId]],
      recipient: SP.acsUrl,
      inResponseTo: requestId,
      notBefore: clock.now() - 1000,
      notOnOrAfter: clock.now() + 5 * 60_000,
      subjectNotOnOrAfter: clock.now() + 5 * 60_000,
      responseDestination: SP.acsUrl,
      responseInResponseTo: requestId,
    };
  }

  async function refusal(facts: AssertionFacts, reg = a, browser: BrowserFacts = BROWSER): Promise<string> {
    try {
      await reg.federation.signIn(ctx, SP, facts, browser);
    } catch (err) {
      if (isDomainError(err)) return err.code;
      throw err;
    }
    return 'accepted';
  }

  it('accepts a good assertion once, and its replay on another process is refused', async () => {
    const facts = await goodFacts();
    const result = await a.federation.signIn(ctx, SP, facts, BROWSER);
    expect(result.session.userName).toBe('alice');
    expect(result.returnTo).toBe('/start');
    expect(await refusal(facts, b)).toBe('saml.replayed');
  });

  it('refuses a request consumed by another process', async () => {
    const facts = await goodFacts();
    expect(await refusal(facts, b)).toBe('accepted');
    expect(await refusal({ ...facts, assertionId: '_another-assertion' }, a)).toBe('saml.unknown_request');
  });

  it('refuses wrong audience, recipient, destination, issuer and disagreeing InResponseTo', async () => {
    expect(await refusal({ ...(await goodFacts()), audienceRestrictions: [['https://other.example']] })).toBe('saml.audience_mismatch');
    expect(await refusal({ ...(await goodFacts()), audienceRestrictions: [] })).toBe('saml.audience_mismatch');
    // Every restriction must name us, not just one of them.
    expect(await refusal({ ...(await goodFacts()), audienceRestrictions: [[SP.entityId], ['https://other.example']] })).toBe('saml.audience_mismatch');
    expect(await refusal({ ...(await goodFacts()), audienceRestrictions: [[SP.entityId, 'https://other.example'], [SP.entityId]] })).toBe('accepted');
    expect(await refusal({ ...(await goodFacts()), recipient: 'https://evil.example/acs' })).toBe('saml.recipient_mismatch');
    expect(await refusal({ ...(await goodFacts()), recipient: undefined })).toBe('saml.recipient_mismatch');
    expect(await refusal({ ...(await goodFacts()), responseDestination: 'https://evil.example/acs' })).toBe('saml.destination_mismatch');
    expect(await refusal({ ...(await goodFacts()), issuer: 'https://other-idp.example' })).toBe('saml.issuer_mismatch');
    expect(await refusal({ ...(await goodFacts()), responseInResponseTo: '_other' })).toBe('saml.in_response_to_mismatch');
    // The response names a request, its assertion none: not an IdP-initiated sign-in, a mismatch.
    expect(await refusal({ ...(await goodFacts()), inResponseTo: undefined })).toBe('saml.in_response_to_mismatch');
  });

  it('binds a solicited response to the browser that started the sign-in (login CSRF)', async () => {
    const facts = await goodFacts();
    expect(await refusal(facts, a, { binding: 'another-browser' })).toBe('saml.browser_mismatch');
    // Used up by the refused attempt: the right browser cannot reuse it either.
    expect(await refusal(facts)).toBe('saml.replayed');
    expect(await refusal({ ...(await goodFacts()), assertionId: '_no-cookie' }, a, {})).toBe('saml.browser_mismatch');
  });

  it('accepts an IdP-initiated response once, to its RelayState path, unless the IdP config turns it off', async () => {
    const unsolicited = { ...(await goodFacts()), inResponseTo: undefined, responseInResponseTo: undefined, assertionId: `_unsolicited-${dialect}` };
    const result = await a.federation.signIn(ctx, SP, unsolicited, { unsolicitedReturnTo: '/start#/accounts' });
    expect(result.returnTo).toBe('/start#/accounts');
    expect(result.session.userName).toBe('alice');
    expect(await refusal(unsolicited, b, {})).toBe('saml.replayed');
    const idp = (await a.federation.getIdp())!;
    expect(idp.options.allowIdpInitiated).toBe(true);
    await a.federation.importIdp(ctx, { ...idp, options: { allowIdpInitiated: false } });
    try {
      expect(await refusal({ ...unsolicited, assertionId: '_unsolicited-off' }, a, {})).toBe('saml.unsolicited');
    } finally {
      await a.federation.importIdp(ctx, { ...idp, options: { allowIdpInitiated: true } });
    }
  });

  it("keeps the assertion's attributes for access control with the session: AWS's AccessControl:<Key>, and the configured mapping", async () => {
    const idp = (await a.federation.getIdp())!;
    await a.federation.importIdp(ctx, { ...idp, options: { attributeMapping: { CostCenter: 'urn:oid:2.5.4.11', Team: 'team' } } });
    try {
      const facts = {
        ...(await goodFacts()),
        attributes: { [`${ACCESS_CONTROL}Department`]: ['Finance'], [`${ACCESS_CONTROL}Team`]: ['Blue'], 'urn:oid:2.5.4.11': ['1234'], team: ['Red'], unmapped: ['x'] },
      };
      const result = await a.federation.signIn(ctx, SP, facts, BROWSER);
      // AccessControl wins over the mapping, as in IAM Identity Center.
      const expected = { CostCenter: '1234', Department: 'Finance', Team: 'Blue' };
      expect(result.principalAttributes).toEqual(expected);
      expect(await b.federation.principalAttributes(result.session.sessionId)).toEqual(expected);
      expect(await refusal({ ...(await goodFacts()), attributes: { [`${ACCESS_CONTROL}Team`]: ['Blue', 'Red'] } })).toBe('saml.invalid_attribute');
      expect(await refusal({ ...(await goodFacts()), attributes: { [`${ACCESS_CONTROL}Bad<Key>`]: ['x'] } })).toBe('saml.invalid_attribute');
      expect(await refusal({ ...(await goodFacts()), attributes: { [`${ACCESS_CONTROL}Long`]: ['x'.repeat(257)] } })).toBe('saml.invalid_attribute');
      const plain = await a.federation.signIn(ctx, SP, await goodFacts(), BROWSER);
      expect(await a.federation.principalAttributes(plain.session.sessionId)).toEqual({});
      await expect(a.federation.importIdp(ctx, { ...idp, options: { attributeMapping: { 'bad key!': 'x' } } })).rejects.toThrow(/not a valid key/);
    } finally {
      await a.federation.importIdp(ctx, { ...idp, options: { attributeMapping: {} } });
    }
  });

  it('allows two minutes of clock skew and no more', async () => {
    const now = clock.now();
    expect(await refusal({ ...(await goodFacts()), notBefore: now + CLOCK_SKEW_MS })).toBe('accepted');
    expect(await refusal({ ...(await goodFacts()), notBefore: now + CLOCK_SKEW_MS + 1 })).toBe('saml.not_yet_valid');
    expect(await refusal({ ...(await goodFacts()), notOnOrAfter: now - CLOCK_SKEW_MS + 1 })).toBe('accepted');
    expect(await refusal({ ...(await goodFacts()), notOnOrAfter: now - CLOCK_SKEW_MS })).toBe('saml.expired');
    expect(await refusal({ ...(await goodFacts()), subjectNotOnOrAfter: now - CLOCK_SKEW_MS })).toBe('saml.expired');
    expect(await refusal({ ...(await goodFacts()), notOnOrAfter: undefined, subjectNotOnOrAfter: undefined })).toBe('saml.no_expiry');
  });

  it('refuses an answer to a request that expired', async () => {
    const facts = await goodFacts();
    clock.advance(REQUEST_TTL_MS + 1);
    const late = { ...facts, notBefore: clock.now(), notOnOrAfter: clock.now() + 60_000, subjectNotOnOrAfter: clock.now() + 60_000 };
    expect(await refusal(late)).toBe('saml.unknown_request');
  });

  it('creates an unknown user just in time only when configured, from the standard attributes', async () => {
    const newcomer = `carol-${dialect}`;
    const attributes = { 'urn:oid:2.5.4.42': ['Carol'], 'urn:oid:2.5.4.4': ['Jones'], mail: ['carol@example.com'] };
    expect(await refusal({ ...(await goodFacts()), nameId: newcomer, attributes })).toBe('saml.unknown_user');
    const init = await a.instance.get();
    expect(await a.directory.findUserByName(init.identityStoreId, newcomer)).toBeUndefined();
    const idp = (await a.federation.getIdp())!;
    await a.federation.importIdp(ctx, { ...idp, options: { jitProvisioning: true } });
    try {
      const first = await a.federation.signIn(ctx, SP, { ...(await goodFacts()), nameId: newcomer, attributes }, BROWSER);
      expect(first.session.userName).toBe(newcomer);
      const made = await a.directory.describeUser(init.identityStoreId, first.session.userId);
      expect(made.profile).toMatchObject({ userName: newcomer, displayName: 'Carol Jones', name: { givenName: 'Carol', familyName: 'Jones' }, emails: [{ value: 'carol@example.com', primary: true }] });
      // The second sign-in finds the same user; a name the directory refuses is a clear refusal.
      const second = await a.federation.signIn(ctx, SP, { ...(await goodFacts()), nameId: newcomer }, BROWSER);
      expect(second.session.userId).toBe(first.session.userId);
      expect(await refusal({ ...(await goodFacts()), nameId: 'Administrator' })).toBe('saml.jit_refused');
      // Both creations on the record: the user made, and the name refused.
      const created = (await a.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CreateUser').orderBy('seq').execute()).slice(-2);
      expect(created.map((e) => [e.event_source, e.error_code])).toEqual([
        ['signin.amazonaws.com', null],
        ['signin.amazonaws.com', 'directory.invalid_attribute'],
      ]);
    } finally {
      await a.federation.importIdp(ctx, { ...idp, options: { jitProvisioning: false } });
    }
  });

  it('audits every refusal with its code', async () => {
    await refusal({ ...(await goodFacts()), audienceRestrictions: [] });
    const last = await a.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CredentialVerification').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(last.error_code).toBe('saml.audience_mismatch');
    expect(last.event_source).toBe('signin.amazonaws.com');
  });

  it('keeps the SP key sealed, and both processes agree on it', async () => {
    const [ka, kb] = await Promise.all([a.federation.spKey(SP.entityId), b.federation.spKey(SP.entityId)]);
    expect(ka.certificatePem).toBe(kb.certificatePem);
    const row = await a.database.db.selectFrom('saml_sp_keys').selectAll().executeTakeFirstOrThrow();
    expect(row.sealed_private_key).not.toContain('PRIVATE KEY');
  });
});
