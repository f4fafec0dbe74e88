// Fetching an IdP's metadata from its URL, for the CLI and the admin API: https only (plain http
// only to a loopback address, or when the administrator says so), few redirects, small, and quick.

import { isIP } from 'node:net';
import { invalidArgument, type DomainError } from '../../shared/errors.js';

export interface MetadataFetchOptions {
  /** Allow plain http to any host (by default, only to loopback addresses). */
  allowHttp?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

export const METADATA_TIMEOUT_MS = 10_000;
export const METADATA_MAX_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 3;

const refused = (why: string): DomainError => invalidArgument('saml.metadata_url_refused', `The metadata URL cannot be used: ${why}.`);
const failed = (why: string): DomainError => invalidArgument('saml.metadata_fetch_failed', `The IdP metadata could not be fetched: ${why}.`);

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The URL, if its scheme and form may be fetched; a redirect target is held to the same rules. */
export function checkMetadataUrl(raw: string, opts: Pick<MetadataFetchOptions, 'allowHttp'> = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused('it is not an absolute URL');
  }
  if (url.username || url.password) throw refused('it carries credentials');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (opts.allowHttp || isLoopback(url.hostname)) return url;
    throw refused('plain http is allowed only to a loopback address, or with --allow-http');
  }
  throw refused(`the ${url.protocol.replace(/:$/, '')} scheme is not http(s)`);
}

/** GET the metadata, following at most three redirects (each one checked), within the time and size limits. */
export async function fetchIdpMetadata(raw: string, opts: MetadataFetchOptions = {}): Promise<string> {
  const maxBytes = opts.maxBytes ?? METADATA_MAX_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? METADATA_TIMEOUT_MS);
  let url = checkMetadataUrl(raw, opts);
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const location = res.headers.get('location');
        if (!location) throw failed(`the server answered ${res.status} without a Location`);
        if (hop >= MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects`);
        const next = checkMetadataUrl(new URL(location, url).toString(), opts);
        // No downgrade from https, even to a loopback address.
        if (url.protocol === 'https:' && next.protocol !== 'https:') throw refused('it redirects from https to plain http');
        url = next;
        continue;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw failed(`the server answered ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > maxBytes) {
        await res.body?.cancel();
        throw failed(`it is larger than ${maxBytes} bytes`);
      }
      return await readLimited(res, maxBytes);
    }
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) throw failed(`no answer within ${(opts.timeoutMs ?? METADATA_TIMEOUT_MS) / 1000} seconds`);
    if (err instanceof Error && err.name === 'TypeError') throw failed('the server could not be reached');
    throw err;
  }
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw failed(`it is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
