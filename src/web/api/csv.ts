// CSV for downloads: RFC 4180 (CRLF, quoted fields, the office's spreadsheet-safe field rule), UTF-8.
import { field } from '../office/history-csv.ts';

export function csv(header: string[], rows: Array<Array<string | number>>): string {
  return [header, ...rows].map((r) => `${r.map((v) => field(String(v))).join(',')}\r\n`).join('');
}
