// The schema validator samlify calls on every inbound message: libxml2's xmllint compiled to
// WebAssembly (xmllint-wasm, in a worker thread), over the SAML 2.0 schemas. No Java, no native build.

import { createRequire } from 'node:module';
import { validateXML } from 'xmllint-wasm';

/** The OASIS schemas, as @authenio/samlify-node-xmllint bundles them (CommonJS modules of one string). */
const require = createRequire(import.meta.url);
const schema = (fileName: string) => ({ fileName, contents: (require(`@authenio/samlify-node-xmllint/build/schemas/${fileName}.js`) as { default: string }).default });
const protocol = schema('saml-schema-protocol-2.0.xsd');
const preload = ['saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd', 'XMLSchema.dtd', 'datatypes.dtd'].map(schema);

/** samlify's validator contract: resolve when the message is valid, reject otherwise. */
export async function validateSamlXml(xml: string): Promise<string> {
  const result = await validateXML({ xml: [{ fileName: 'message.xml', contents: xml }], schema: [protocol], preload });
  if (!result.valid) throw new Error('ERR_EXCEPTION_VALIDATE_XML');
  return 'SUCCESS_VALIDATE_XML';
}
