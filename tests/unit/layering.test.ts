// The layering of src/: stages (broker, workers, alerts, forecast, web) never import each other;
// the shared floors below them import only floors; src/app is the composition root and src/cli
// the thin commands above it. Every import of every file under src/ is checked.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');
const STAGES = new Set(['broker', 'workers', 'alerts', 'forecast', 'web']);
// The simulators stand outside the pipeline, beside the commands that ship them.
const TOP = new Set(['app', 'cli', 'simulators']);

/** The part of src/ a path is in: its first folder, or '.' for a file at src/'s top. */
function partOf(path: string): string | undefined {
  const rel = relative(SRC, path);
  if (rel.startsWith('..')) return undefined; // outside src/ (package.json and the like)
  const parts = rel.split(/[\\/]/);
  return parts.length > 1 ? (parts[0] as string) : '.';
}

const layer = (part: string) => (STAGES.has(part) ? 'stage' : TOP.has(part) ? part : 'floor');

/** Why an import from part `from` of part `to` breaks the layering; undefined when it does not. */
function violation(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  const [a, b] = [layer(from), layer(to)];
  if (a === 'stage' && b === 'stage') return `stage ${from} imports stage ${to}`;
  if (a === 'stage' && TOP.has(to)) return `stage ${from} imports ${to}`;
  if (a === 'floor' && b !== 'floor') return `floor ${from} imports ${b === 'stage' ? 'stage ' : ''}${to}`;
  if (a === 'app' && b === 'cli') return 'app imports cli';
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(e.name) ? [path] : [];
  });
}

/** Relative imports, re-exports and dynamic imports of a file, resolved. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name));
}

describe('layering', () => {
  it('fails on imports against the layering', () => {
    expect(violation('broker', 'workers')).toBe('stage broker imports stage workers');
    expect(violation('web', 'alerts')).toBeDefined();
    expect(violation('alerts', 'app')).toBeDefined();
    expect(violation('forecast', 'cli')).toBeDefined();
    expect(violation('bus', 'broker')).toBe('floor bus imports stage broker');
    expect(violation('schemas', 'app')).toBeDefined();
    expect(violation('lib', 'cli')).toBeDefined();
    expect(violation('.', 'workers')).toBeDefined();
    expect(violation('app', 'cli')).toBeDefined();
  });

  it('lets stages use floors, floors use floors, and app and cli use anything below them', () => {
    for (const [from, to] of [
      ['broker', 'bus'],
      ['web', 'http'],
      ['store', 'config'],
      ['runtime', 'http'],
      ['app', 'broker'],
      ['cli', 'app'],
      ['cli', 'workers'],
      ['workers', 'workers'],
    ] as const)
      expect(violation(from, to)).toBeUndefined();
  });

  it('holds for every import under src/', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const broken = files.flatMap((file) => {
      const from = partOf(file) as string;
      return importsOf(file).flatMap((target) => {
        const to = partOf(target);
        const why = to === undefined ? undefined : violation(from, to);
        return why ? [`${relative(SRC, file)} → ${relative(SRC, target)}: ${why}`] : [];
      });
    });
    expect(broken).toEqual([]);
  });
});
