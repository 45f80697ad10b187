// Count series from CSV (timestamp with offset, location, count), on a regular grid with gaps.
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Instant } from '../model/model.ts';

export interface Point {
  at: Instant;
  /** The timestamp as given, for output. */
  text: string;
  value: number;
}

/** A time of day and its offset: Z, ±hh:mm, ±hhmm or ±hh. */
const OFFSET = /\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)$/;

export function parseInstant(text: string): Instant {
  const m = OFFSET.exec(text);
  if (!m) throw new Error(`timestamp without a time and offset: ${text}`);
  const offsetMin = m[1] === 'Z' ? 0 : (m[2] === '-' ? -1 : 1) * (Number(m[3]) * 60 + Number(m[4] ?? 0));
  // Date.parse does not take an offset of hours alone (+09).
  const utc = Date.parse(m[4] === undefined && m[1] !== 'Z' ? `${text}:00` : text);
  if (Number.isNaN(utc)) throw new Error(`not an ISO 8601 timestamp: ${text}`);
  return { utc, local: utc + offsetMin * 60_000 };
}

/** Bytes decoded at a time: one string per file would stop at V8's limit of 512 MiB. */
const CHUNK = 1 << 24;

/** The file's lines, decoded a chunk at a time (the decoder carries a character cut in two). */
export function fileLines(file: string, chunkBytes = CHUNK): string[] {
  const bytes = readFileSync(file);
  const decoder = new StringDecoder('utf8');
  const lines: string[] = [];
  let rest = '';
  for (let start = 0; start < bytes.length; start += chunkBytes) {
    const parts = (rest + decoder.write(bytes.subarray(start, start + chunkBytes))).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) lines.push(p);
  }
  lines.push(rest + decoder.end());
  return lines;
}

/** Rows of a counts file that were left out, by reason, with the first one's line number. */
export interface RejectedRows {
  reason: string;
  rows: number;
  firstLine: number;
}

export interface CountsFile {
  series: Map<string, Point[]>;
  rejected: RejectedRows[];
}

/**
 * Reads a counts CSV. An empty count is a gap. Rows that cannot be a count (negative, as some
 * counters write -1 for "no data", or not a number), have no location or no valid timestamp, or
 * repeat a location's timestamp are left out and reported, so one bad row never stops a backtest
 * over years of good ones, nor feeds the model a value it cannot take the log of.
 */
export function readCountsCsv(file: string): CountsFile {
  const lines = fileLines(file);
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
  const seen = new Map<string, Set<number>>();
  const rejected = new Map<string, RejectedRows>();
  const reject = (reason: string, line: number) => {
    const r = rejected.get(reason) ?? { reason, rows: 0, firstLine: line };
    r.rows++;
    rejected.set(reason, r);
  };
  // Several locations share each timestamp: parse each text once.
  const instants = new Map<string, Instant | undefined>();
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]?.trim();
    if (!line) continue;
    // Location names may contain commas when quoted (rare: the plain split is much faster).
    const cols = line.includes('"')
      ? (line
          .match(/("([^"]|"")*"|[^,]*)(,|$)/g)
          ?.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"')) ?? [])
      : line.split(',');
    const count = (cols[ci] ?? '').trim();
    if (count === '') continue;
    const value = Number(count);
    if (!Number.isFinite(value)) {
      reject('count is not a number', n + 1);
      continue;
    }
    if (value < 0) {
      reject('negative count', n + 1);
      continue;
    }
    const location = (cols[li] ?? '').trim();
    if (!location) {
      reject('no location', n + 1);
      continue;
    }
    const text = (cols[ti] ?? '').trim();
    let at = instants.get(text);
    if (!instants.has(text)) {
      at = tryParseInstant(text);
      instants.set(text, at);
    }
    if (!at) {
      reject('timestamp is not ISO 8601 with an offset', n + 1);
      continue;
    }
    let list = byLocation.get(location);
    if (!list) {
      list = [];
      byLocation.set(location, list);
    }
    // The same interval twice: the first row stands. Rows in time order (the usual file) are new
    // by their time alone (they only go up); a location's set of times is built once they go back.
    let times = seen.get(location);
    if (!times && at.utc <= (list.at(-1)?.at.utc ?? Number.NEGATIVE_INFINITY)) {
      times = new Set(list.map((p) => p.at.utc));
      seen.set(location, times);
    }
    if (times?.has(at.utc)) {
      reject('repeats an earlier row of its location and time', n + 1);
      continue;
    }
    times?.add(at.utc);
    list.push({ at, text, value });
  }
  for (const list of byLocation.values()) list.sort((a, b) => a.at.utc - b.at.utc);
  return { series: byLocation, rejected: [...rejected.values()] };
}

function tryParseInstant(text: string): Instant | undefined {
  try {
    return parseInstant(text);
  } catch {
    return undefined;
  }
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
