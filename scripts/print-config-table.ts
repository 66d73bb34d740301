/**
 * Prints the README's configuration table from the zod schema in src/config.ts
 * (`npm run config-table`), so the table and the code share one source.
 */
import { environmentSchema } from '../src/config.js';

const rows = Object.entries(environmentSchema.shape).map(([name, schema]) => {
  // What the schema yields for an unset variable is its default.
  const unset = schema.safeParse(undefined);
  // A default that depends on another setting has no zod default; its metadata spells it out.
  const defaultText = schema.meta()?.['defaultText'];
  const fallback =
    typeof defaultText === 'string' ? defaultText : unset.success && unset.data !== undefined ? `\`${String(unset.data)}\`` : '—';
  return `| \`${name}\` | ${schema.description ?? ''} | ${fallback} |`;
});
console.log(['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n'));
