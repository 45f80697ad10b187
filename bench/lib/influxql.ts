// InfluxQL over InfluxDB 1.x's /query endpoint: the bench's witness for what is stored (like the
// influx CLI), independent of the client library machi itself writes with.

export interface InfluxQlResult {
  results?: { error?: string; series?: { tags?: Record<string, string>; values: unknown[][] }[] }[];
  error?: string;
}

export async function influxQl(influxUrl: string, q: string, database?: string): Promise<InfluxQlResult> {
  const body = new URLSearchParams({ q, ...(database ? { db: database } : {}) });
  const res = await fetch(new URL('/query', influxUrl), {
    method: 'POST',
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const json = (await res.json()) as InfluxQlResult;
  const error = json.error ?? json.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxQL ${q}: ${res.status} ${error ?? ''}`);
  return json;
}

/** The series of the first statement's result. */
export const seriesOf = (r: InfluxQlResult) => r.results?.[0]?.series ?? [];
