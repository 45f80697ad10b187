// Grafana's dashboards are JSON and cannot import src/store/measurements.ts: their Flux queries
// may name only measurements and fields declared there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MEASUREMENTS } from '../../src/store/measurements.ts';

const DASHBOARDS = 'grafana/dashboards';

/** Every Flux query of a dashboard (the `query` of each panel target), wherever it is nested. */
function queries(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(queries);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'query' && typeof value === 'string' ? [value] : queries(value),
  );
}

const matches = (flux: string, re: RegExp) => [...flux.matchAll(re)].map((m) => m[1] as string);

describe('Grafana dashboards', () => {
  const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));

  it.each(files)('%s queries only measurements and fields of src/store/measurements.ts', (file) => {
    const fluxes = queries(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')));
    expect(fluxes.length).toBeGreaterThan(0);
    const byName = new Map(Object.values(MEASUREMENTS).map((m) => [m.name as string, m]));
    for (const flux of fluxes) {
      const measurements = matches(flux, /_measurement\s*==\s*"([^"]+)"/g);
      for (const name of measurements) expect([...byName.keys()], flux).toContain(name);
      // A field must belong to one of the measurements the query reads.
      const fields = new Set(measurements.flatMap((n) => Object.keys(byName.get(n)?.field ?? {})));
      for (const field of matches(flux, /_field\s*==\s*"([^"]+)"/g))
        expect([...fields], flux).toContain(field);
    }
  });
});
