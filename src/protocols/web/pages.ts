// Server-rendered sign-in pages: a few hundred bytes of HTML and inline CSS each, no scripts.

export const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE =
  'body{font-family:system-ui,sans-serif;background:#f2f3f3;margin:0}main{max-width:360px;margin:10vh auto;background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002}' +
  'label{display:block;margin:1em 0 .3em}input{width:100%;box-sizing:border-box;padding:.5em}button{margin-top:1.5em;width:100%;padding:.6em;background:#0972d3;color:#fff;border:0;border-radius:4px}' +
  '.error{color:#d91515}';

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escape(title)} · Atrium</title><style>${STYLE}</style></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

/** The policy of a page with no script, no image and no form of its own. */
export const STATIC_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/**
 * Whether the request is a browser loading a page (a link followed, an address typed): a GET that
 * accepts HTML. AWS's SDKs and CLIs never ask for HTML, so they keep their protocol's errors.
 */
export function isPageLoad(method: string, accept: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && accept !== undefined && /\btext\/html\b/i.test(accept);
}

export interface FormField {
  name: string;
  label?: string;
  type: 'text' | 'password' | 'hidden';
  value?: string;
  autocomplete?: string;
}

export function form(action: string, csrf: string, returnTo: string, fields: FormField[], button: string, error?: string): string {
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escape(value)}">`;
  const inputs = fields
    .map((f) =>
      f.type === 'hidden'
        ? hidden(f.name, f.value ?? '')
        : `<label for="${f.name}">${escape(f.label ?? f.name)}</label><input id="${f.name}" name="${f.name}" type="${f.type}" required` +
          `${f.value ? ` value="${escape(f.value)}"` : ''}${f.autocomplete ? ` autocomplete="${f.autocomplete}"` : ''}>`,
    )
    .join('');
  const message = error ? `<p class="error" role="alert">${escape(error)}</p>` : '';
  return `${message}<form method="post" action="${action}">${hidden('csrf', csrf)}${hidden('return_to', returnTo)}${inputs}<button type="submit">${escape(button)}</button></form>`;
}

export function notice(message: string): string {
  return `<p class="error" role="alert">${escape(message)}</p><p><a href="/login">Sign in</a></p>`;
}
