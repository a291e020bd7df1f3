// Copies non-TypeScript assets (SQL migrations, enrichment data) next to the compiled code.
import { cpSync } from 'node:fs';
for (const dir of ['db/migrations', 'enrich/data']) {
  cpSync(new URL(`../src/${dir}`, import.meta.url), new URL(`../dist/${dir}`, import.meta.url), { recursive: true });
}
