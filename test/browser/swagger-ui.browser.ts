import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * An engineer's first contact with Signet: open /docs in a real browser,
 * authorize with a key, try the single lookup. Runs against the app on a
 * loopback socket, wired to the simulator.
 */

const KEY = 'browser-test-key-0123456789abcdef';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

let stack: Stack;
let baseUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startStack({ env: { AUTH_DISABLED: 'false', API_KEYS: `browser:${KEY}` } });
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function tryLookup(md5: string, name: string): Promise<{ code: string; body: string }> {
  const operation = page.locator('#operations-signatures-getSignature');
  if (!(await operation.locator('.try-out__btn').isVisible())) await operation.locator('.opblock-summary').click();
  const tryOut = operation.locator('button.try-out__btn');
  if ((await tryOut.textContent())?.trim() === 'Try it out') await tryOut.click();
  await operation.locator('tr[data-param-name="hash"] input').fill(md5);
  await operation.locator('tr[data-param-name="name"] input').fill(name);
  await operation.locator('button.execute').click();
  const response = operation.locator('.responses-wrapper .live-responses-table .response').first();
  await response.locator('.response-col_status').waitFor();
  const code = (await response.locator('.response-col_status').textContent())?.trim() ?? '';
  const body = (await response.locator('.response-col_description pre').first().textContent()) ?? '';
  return { code, body };
}

describe('Swagger UI in Chromium', () => {
  it('shows the API and its operations', async () => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${baseUrl}/docs`);
    await page.locator('#operations-signatures-getSignature').waitFor();
    expect(await page.locator('.info .title').textContent()).toContain('Signet');
    expect(await page.title()).toBe('Signet API');
    // Signet's logo in the top bar, not Fastify's, and no box to explore another document.
    const logo = page.locator('.topbar-wrapper img').first();
    expect(await logo.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(await page.locator('.topbar .download-url-wrapper').isVisible()).toBe(false);
    expect(violations).toEqual([]);
  });

  it('opening the service address lands on the documentation', async () => {
    await page.goto(`${baseUrl}/`);
    expect(new URL(page.url()).pathname).toMatch(/^\/docs\/?$/);
    await page.locator('#operations-signatures-getSignature').waitFor();
  });

  it('authorizes with an API key', async () => {
    await page.locator('button.authorize').first().click();
    await page.locator('.modal-ux input[type="text"], .modal-ux input[type="password"]').first().fill(KEY);
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();
  });

  it('looks up a signed sample and shows its verdict', async () => {
    const { code, body } = await tryLookup(samples.signed.md5, samples.signed.name);
    await page.screenshot({ path: new URL('swagger-ui-signed.png', ARTIFACTS).pathname, fullPage: true });
    expect(code).toBe('200');
    expect(body).toContain('"verdict": "signed"');
    expect(body).toContain('"signed": true');
  });

  it('flags an invalid md5 from the documented pattern and sends nothing', async () => {
    const lookups: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().includes('/v1/signatures/')) lookups.push(request.url());
    };
    page.on('request', onRequest);
    const operation = page.locator('#operations-signatures-getSignature');
    const md5Input = operation.locator('tr[data-param-name="hash"] input');
    await md5Input.fill('0'.repeat(30));
    await operation.locator('button.execute').click();
    await expect.poll(async () => (await md5Input.getAttribute('class')) ?? '').toContain('invalid');
    await page.screenshot({ path: new URL('swagger-ui-invalid-md5.png', ARTIFACTS).pathname, fullPage: true });
    page.off('request', onRequest);
    expect(lookups).toEqual([]);
  });

  it('shows the verdict fields of an unknown md5', async () => {
    const { code, body } = await tryLookup(samples.unseen.md5, samples.unseen.name);
    expect(code).toBe('200');
    expect(body).toContain('"verdict": "unknown"');
    expect(body).toContain('"signature": null');
  });
});
