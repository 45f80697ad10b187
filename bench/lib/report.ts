// Bench results: one row per case with its headline figure, the baseline measured in the same run,
// the target and the verdict. Results merge into bench/results/latest.json (cases not re-run keep
// their previous row and date) and are rendered to bench/results/latest.md for the README.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { INFLUXDB_VERSION, KAFKA_VERSION } from '../../src/stack/tools.ts';

export interface CaseResult {
  /** Stable name, e.g. `ingest-10-devices`. */
  case: string;
  /** What the headline figure is, e.g. `acknowledged msg/s`. */
  metric: string;
  value: number;
  /** The baseline measured in the same run with the same load generator, when the case has one. */
  baseline?: { name: string; value: number };
  /** value / baseline.value when the target is a ratio. */
  ratio?: number;
  /** Human-readable target, e.g. `≥ 0.35× bare aedes`. */
  target: string;
  pass: boolean;
  /** Absolute figures for context, one short line. */
  context: string;
  runs: number;
  /** Raw per-run measurements, kept in the JSON only. */
  details?: unknown;
}

export interface MachineFacts {
  cores: number;
  cpu: string | undefined;
  memoryGiB: number;
  node: string;
  kafka: string;
  influxdb: string;
}

export const machineFacts = (): MachineFacts => ({
  cores: cpus().length,
  cpu: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kafka: KAFKA_VERSION,
  influxdb: INFLUXDB_VERSION,
});

interface Stored extends CaseResult {
  date: string;
}

const DIR = 'bench/results';

const fmt = (n: number) =>
  !Number.isFinite(n) ? String(n) : Math.abs(n) >= 100 ? String(Math.round(n)) : n.toFixed(2);

export function renderTable(facts: MachineFacts, rows: Stored[]): string {
  return [
    `Machine: ${facts.cores} cores (${facts.cpu}), ${facts.memoryGiB} GiB, Node ${facts.node}, Kafka ${facts.kafka}, InfluxDB ${facts.influxdb}, everything on the same machine. Medians of the runs given.`,
    '',
    '| case | metric | machi | baseline (same run) | ratio | target | result | runs | context | date |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${r.metric} | ${fmt(r.value)} | ${r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : '—'} | ${r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`} | ${r.target} | ${r.pass ? 'pass' : '**FAIL**'} | ${r.runs} | ${r.context} | ${r.date.slice(0, 10)} |`,
    ),
  ].join('\n');
}

/** Writes this run's JSON and merges its rows into latest.json / latest.md; returns the table. */
export function writeResults(results: CaseResult[], date = new Date().toISOString()): string {
  mkdirSync(DIR, { recursive: true });
  const facts = machineFacts();
  writeFileSync(
    `${DIR}/${date.replace(/[:.]/g, '-')}.json`,
    JSON.stringify({ date, facts, cases: results }, null, 2),
  );
  const latestPath = `${DIR}/latest.json`;
  const previous: Stored[] = existsSync(latestPath)
    ? (JSON.parse(readFileSync(latestPath, 'utf8')) as { cases: Stored[] }).cases
    : [];
  const merged = new Map(previous.map((r) => [r.case, r]));
  for (const r of results) merged.set(r.case, { ...r, date });
  const rows = [...merged.values()];
  writeFileSync(
    latestPath,
    JSON.stringify({ facts, cases: rows.map(({ details: _d, ...r }) => r) }, null, 2),
  );
  const table = renderTable(facts, rows);
  writeFileSync(`${DIR}/latest.md`, `${table}\n`);
  return table;
}
