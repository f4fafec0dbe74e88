import { describe, expect, it } from 'vitest';
import { validateSamlXml } from './schema-validator.js';

const response = (inner: string, attributes = 'ID="_a" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"') =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ${attributes}>${inner}</samlp:Response>`;
const SUCCESS = '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>';

describe('validateSamlXml', () => {
  it('accepts a Response valid against the SAML 2.0 schemas', async () => {
    await expect(validateSamlXml(response(SUCCESS))).resolves.toBe('SUCCESS_VALIDATE_XML');
  });

  it('refuses what the schemas refuse: an unknown root, a missing StatusCode, a missing IssueInstant, a bad dateTime', async () => {
    for (const xml of ['<x/>', response('<samlp:Status/>'), response(SUCCESS, 'ID="_a" Version="2.0"'), response(SUCCESS, 'ID="_a" Version="2.0" IssueInstant="yesterday"')]) {
      await expect(validateSamlXml(xml)).rejects.toThrow('ERR_EXCEPTION_VALIDATE_XML');
    }
  });
});
