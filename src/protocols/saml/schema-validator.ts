// The schema validator samlify calls on every inbound message: libxml2's xmllint compiled to
// WebAssembly (xmllint-wasm, in a worker thread), over the SAML 2.0 schemas. No Java, no native build.

import { createRequire } from 'node:module';
import { validateXML } from 'xmllint-wasm';
import { samlRefused } from '../../federation/index.js';
import { takingTurns } from '../../shared/taking-turns.js';

/** The OASIS schemas, as @authenio/samlify-node-xmllint bundles them (CommonJS modules of one string). */
const require = createRequire(import.meta.url);
const schema = (fileName: string) => ({ fileName, contents: (require(`@authenio/samlify-node-xmllint/build/schemas/${fileName}.js`) as { default: string }).default });
const protocol = schema('saml-schema-protocol-2.0.xsd');
const preload = ['saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd', 'XMLSchema.dtd', 'datatypes.dtd'].map(schema);

/**
 * Each validation starts a worker thread of its own (xmllint-wasm compiles libxml2 in it: about a
 * second of CPU and 5 MiB). Anyone may post to the ACS, so they take turns: two at once, and a
 * short queue beyond which a response is refused at once rather than held.
 */
export const VALIDATIONS_AT_ONCE = 2;
export const VALIDATIONS_WAITING = 16;
const inTurn = takingTurns(VALIDATIONS_AT_ONCE, {
  maxWaiting: VALIDATIONS_WAITING,
  refuse: () => samlRefused('busy', 'Too many sign-ins are being checked at once. Try again in a moment.'),
});

/** samlify's validator contract: resolve when the message is valid, reject otherwise. */
export async function validateSamlXml(xml: string): Promise<string> {
  const result = await inTurn(() => validateXML({ xml: [{ fileName: 'message.xml', contents: xml }], schema: [protocol], preload }));
  if (!result.valid) throw new Error('ERR_EXCEPTION_VALIDATE_XML');
  return 'SUCCESS_VALIDATE_XML';
}
