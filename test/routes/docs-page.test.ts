import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

/** The documentation page is Signet's: its title and logo, no Explore box, and `/` leads to it. */
describe('the documentation page', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { AUTH_DISABLED: 'false', API_KEYS: 'ops:docs-test-key-0123456789abcdef:admin' } });
  });
  afterAll(async () => stack.close());

  it('GET / redirects to /docs, without an API key', async () => {
    const root = await stack.app.inject('/');
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/docs');
  });

  it("carries Signet's title and logo, and a stylesheet that hides the Explore box", async () => {
    const page = await stack.app.inject('/docs');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>Signet API</title>');
    expect(page.body).toContain('theme/signet.css');
    // The top-bar logo is swapped in by the initializer script, as a data URL of Signet's SVG.
    const initializer = await stack.app.inject('/docs/static/swagger-initializer.js');
    expect(initializer.body).toContain('data:image/svg+xml;base64,');
    const logo = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(initializer.body)?.[1] ?? '';
    expect(Buffer.from(logo, 'base64').toString('utf8')).toContain('aria-label="Signet"');
    const css = await stack.app.inject('/docs/static/theme/signet.css');
    expect(css.statusCode).toBe(200);
    expect(css.body).toContain('.download-url-wrapper { display: none');
  });
});
