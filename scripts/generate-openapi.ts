/**
 * Regenerates openapi/openapi.json from the route schemas (`npm run openapi`).
 * A test fails when the committed copy differs from what the service serves.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const config = loadConfig({ CB_URL: 'https://carbonblack.invalid', CB_API_TOKEN: 'unused-for-the-document', AUTH_DISABLED: 'true' });
const neverAsked = () => Promise.reject(new Error('the document generator never looks anything up'));
const app = await buildApp(config, {
  carbonBlack: { isSigned: neverAsked, binarySummary: neverAsked, searchBinaries: neverAsked },
});
await app.ready();
const target = new URL('../openapi/openapi.json', import.meta.url);
mkdirSync(new URL('.', target), { recursive: true });
writeFileSync(target, `${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
console.log(`wrote ${target.pathname}`);
