// The office API as a test calls it: the office login and the console's header, and a CSV reader.
import type { BrokerHarness } from './broker-harness.ts';

export function officeHeaders(
  h: BrokerHarness,
  password = h.config.mqtt.roles.office,
): { authorization: string; 'x-machi-office': string } {
  return {
    authorization: `Basic ${Buffer.from(`office:${password}`).toString('base64')}`,
    'x-machi-office': '1',
  };
}

export function officeGet(
  h: BrokerHarness,
  path: string,
  headers: Record<string, string> = officeHeaders(h),
): Promise<Response> {
  return fetch(`${h.httpUrl}${path}`, { headers });
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error('CSV does not end with CRLF');
  return rows;
}
