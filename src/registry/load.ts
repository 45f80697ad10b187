// Loads devices/*.yaml|json, validates every file with the registry schema and cross-checks ids.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { type Registry, RegistryFile } from './schema.ts';

export class RegistryError extends Error {
  readonly code = 'MACHI_ERR_REGISTRY';
  constructor(readonly problems: string[]) {
    super(`invalid device registry:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const SECTIONS = ['areas', 'sites', 'devices', 'events'] as const;

/** "devices/x.yaml: device fs-1: stagesCm: ..." — file, entry id and field of each zod issue. */
function describeIssue(file: string, raw: unknown, issue: z.core.$ZodIssue): string {
  const [section, index, ...field] = issue.path;
  const entries = (raw as Record<string, unknown> | null)?.[String(section)];
  const entry = Array.isArray(entries) && typeof index === 'number' ? entries[index] : undefined;
  const id = (entry as { id?: unknown } | undefined)?.id;
  const singular = String(section).replace(/s$/, '').replace(/ie$/, 'y');
  const where =
    section === undefined
      ? ''
      : id
        ? `${singular} ${String(id)}: `
        : `${String(section)}[${String(index)}]: `;
  const path = field.length ? `${field.join('.')}: ` : '';
  return `${file}: ${where}${path}${issue.message}`;
}

export function loadRegistry(dir: string): Registry {
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  const problems: string[] = [];
  const demoFiles: string[] = [];
  const registry: Registry = {
    areas: new Map(),
    sites: new Map(),
    devices: new Map(),
    events: [],
    demoFiles,
  };
  const origin = new Map<string, string>();

  for (const name of files) {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const parsed = RegistryFile.safeParse(raw ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(describeIssue(file, raw, issue));
      continue;
    }
    if (parsed.data.demo) demoFiles.push(file);
    for (const section of SECTIONS) {
      if (section === 'events') {
        registry.events.push(...parsed.data.events);
        continue;
      }
      const map = registry[section] as Map<string, { id: string }>;
      for (const entry of parsed.data[section]) {
        const key = `${section}:${entry.id}`;
        if (origin.has(key))
          problems.push(`${file}: ${section} id ${entry.id} is also defined in ${origin.get(key)}`);
        origin.set(key, file);
        map.set(entry.id, entry);
      }
    }
  }
  problems.push(...crossCheck(registry, origin));
  if (problems.length > 0) throw new RegistryError(problems);
  return registry;
}

function crossCheck(r: Registry, origin: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const d of r.devices.values()) {
    const where = `${origin.get(`devices:${d.id}`)}: device ${d.id}`;
    if (d.kind === 'flood-sensor' && !r.areas.has(d.area))
      problems.push(`${where}: area: unknown area "${d.area}"`);
    if (d.kind === 'people-counter' && !r.sites.has(d.site))
      problems.push(`${where}: site: unknown site "${d.site}"`);
  }
  for (const s of r.sites.values()) {
    const where = `${origin.get(`sites:${s.id}`)}: site ${s.id}`;
    if (!r.areas.has(s.area)) problems.push(`${where}: area: unknown area "${s.area}"`);
    for (const n of s.nearby) if (!r.sites.has(n)) problems.push(`${where}: nearby: unknown site "${n}"`);
  }
  for (const e of r.events) {
    for (const s of e.sites) if (!r.sites.has(s)) problems.push(`event ${e.id}: sites: unknown site "${s}"`);
  }
  return problems;
}
