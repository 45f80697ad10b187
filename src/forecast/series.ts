// Count series from CSV (timestamp with offset, location, count), on a regular grid with gaps.
import { readFileSync } from 'node:fs';
import type { Instant } from './model.ts';

export interface Point {
  at: Instant;
  /** The timestamp as given, for output. */
  text: string;
  value: number;
}

const OFFSET = /(Z|([+-])(\d{2}):?(\d{2}))$/;

/** Parses an ISO 8601 timestamp with an offset, keeping its local time (UTC + offset). */
export function parseInstant(text: string): Instant {
  const m = OFFSET.exec(text);
  if (!m) throw new Error(`timestamp without an offset: ${text}`);
  const utc = Date.parse(text);
  if (Number.isNaN(utc)) throw new Error(`not an ISO 8601 timestamp: ${text}`);
  const offsetMin = m[1] === 'Z' ? 0 : (m[2] === '-' ? -1 : 1) * (Number(m[3]) * 60 + Number(m[4]));
  return { utc, local: utc + offsetMin * 60_000 };
}

export function readCountsCsv(file: string): Map<string, Point[]> {
  const lines = readFileSync(file, 'utf8').split('\n');
  // Exports from spreadsheets and other tools: a byte-order mark, quoted or capitalised names.
  const header = (lines[0] ?? '')
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  const [ti, li, ci] = ['timestamp', 'location', 'count'].map((c) => header.indexOf(c));
  if (ti === undefined || li === undefined || ci === undefined || [ti, li, ci].some((i) => i < 0)) {
    throw new Error(`${file}: expected columns timestamp, location, count`);
  }
  const byLocation = new Map<string, Point[]>();
  // Several locations share each timestamp: parse each text once.
  const instants = new Map<string, Instant>();
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]?.trim();
    if (!line) continue;
    // Location names may contain commas when quoted (rare: the plain split is much faster).
    const cols = line.includes('"')
      ? (line
          .match(/("([^"]|"")*"|[^,]*)(,|$)/g)
          ?.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"')) ?? [])
      : line.split(',');
    const value = Number(cols[ci]);
    if (cols[ci] === '' || !Number.isFinite(value)) continue;
    const text = (cols[ti] as string).trim();
    const location = (cols[li] as string).trim();
    const list = byLocation.get(location) ?? [];
    let at = instants.get(text);
    if (!at) {
      at = parseInstant(text);
      instants.set(text, at);
    }
    list.push({ at, text, value });
    byLocation.set(location, list);
  }
  for (const list of byLocation.values()) list.sort((a, b) => a.at.utc - b.at.utc);
  return byLocation;
}

/** ISO 8601 in local time with its offset (2024-03-31T02:00:00+13:00), like the input's. */
export function formatInstant(at: Instant): string {
  const offsetMin = Math.round((at.local - at.utc) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(at.local).toISOString().slice(0, 19)}${sign}${hhmm}`;
}

/** The most common spacing between points (15 min, 1 h, ...). */
export function inferStep(points: Point[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < Math.min(points.length, 2000); i++) {
    const d = (points[i] as Point).at.utc - (points[i - 1] as Point).at.utc;
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 3_600_000;
}

export function readHolidayFile(file: string): Set<string> {
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.split(',')[0]?.trim() ?? '')
      .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)),
  );
}
