import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../../src/api/http/openapi.js';

/** Every route a controller declares is in the OpenAPI document, and nothing else is. */
describe('the OpenAPI document', () => {
  it('matches the routes of the controllers', () => {
    const dir = join(import.meta.dirname, '..', '..', 'src', 'api', 'http');
    const declared = new Set<string>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.controller.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      const prefix = /@Controller\('([^']*)'\)/.exec(src)?.[1] ?? '';
      for (const m of src.matchAll(/@(Get|Post|Put|Delete|Patch)\((?:'([^']*)')?\)/g)) {
        const path = `/${[prefix, m[2] ?? ''].filter(Boolean).join('/')}`.replace(/:(\w+)/g, '{$1}');
        declared.add(`${m[1]!.toLowerCase()} ${path}`);
      }
    }
    const documented = new Set(Object.entries(ROUTES).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)));
    expect([...declared].sort()).toEqual([...documented].sort());
  });
});
