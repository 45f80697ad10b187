// /ngsi-ld/v1 against the real broker, Kafka and InfluxDB: every entity type validated against its
// Smart Data Model (key-values, and normalized once reduced), the normalized envelope checked
// (Property / GeoProperty / Relationship, observedAt), the @context Link, q, paging and garbage.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/helpers.ts';
import { type OpenDataWorld, startOpenDataWorld } from './open-data-harness.ts';
import { pythonWitness } from './python-witness.ts';
import { modelAttributes, reduceNormalized, smartDataModels } from './smart-data-models.ts';

type Json = Record<string, unknown>;
let w: OpenDataWorld;
const validate = smartDataModels();
const TYPES = ['CrowdFlowObserved', 'FloodMonitoring', 'Device', 'Alert'];
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Per type, the measured attributes that must carry observedAt (always present / when present). */
const OBSERVED: Record<string, { always: string[]; whenPresent: string[] }> = {
  CrowdFlowObserved: { always: ['peopleCount'], whenPresent: [] },
  FloodMonitoring: { always: ['floodLevelStatus'], whenPresent: ['currentLevel'] },
  Device: { always: [], whenPresent: ['deviceState'] },
  Alert: { always: [], whenPresent: [] },
};
/** Attributes machi adds beyond the models (docs/open-data.md, "machi's own attributes"). */
const MACHI_EXTRAS: Record<string, string[]> = { FloodMonitoring: ['refDevice'], Alert: ['drill'] };

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${w.h.httpUrl}${path}`, { headers });
  return { res, body: (await res.json()) as Json | Json[] };
}

/** The NGSI-LD envelope of one normalized entity. */
function checkNormalized(e: Json): void {
  expect(e.id).toMatch(new RegExp(`^urn:ngsi-ld:${String(e.type)}:`));
  for (const [name, raw] of Object.entries(e)) {
    if (name === 'id' || name === 'type') continue;
    const a = raw as Json;
    expect(['Property', 'GeoProperty', 'Relationship'], name).toContain(a.type);
    if (a.type === 'Relationship') expect(String(a.object), name).toMatch(/^urn:ngsi-ld:/);
    else expect(a, name).toHaveProperty('value');
    if (a.type === 'GeoProperty') expect((a.value as Json).type).toBe('Point');
    if (name === 'location') expect(a.type).toBe('GeoProperty');
    if (a.observedAt !== undefined) expect(String(a.observedAt), name).toMatch(DATE_TIME);
  }
  const observed = OBSERVED[String(e.type)];
  for (const name of observed?.always ?? []) expect(e, `${String(e.id)} ${name}`).toHaveProperty(name);
  for (const name of [...(observed?.always ?? []), ...(observed?.whenPresent ?? [])])
    if (e[name] !== undefined)
      expect(String((e[name] as Json).observedAt), `${String(e.id)} ${name}`).toMatch(DATE_TIME);
  // Alert: no measured value; when it was issued is its time, a typed date-time.
  if (e.type === 'Alert')
    expect((e.dateIssued as Json).value).toEqual({
      '@type': 'DateTime',
      '@value': expect.stringMatching(DATE_TIME),
    });
}

beforeAll(async () => {
  w = await startOpenDataWorld();
  // The active alerts arrive retained over MQTT: wait until machi holds them.
  await eventually(async () => {
    const { body } = await get('/ngsi-ld/v1/entities?type=Alert');
    return (body as Json[]).length === 2 || undefined;
  });
}, 120_000);

afterAll(async () => {
  await w?.stop();
}, 60_000);

describe('NGSI-LD', () => {
  it.each(TYPES)('serves %s valid against its Smart Data Model, key-values and normalized', async (type) => {
    const kv = await get(`/ngsi-ld/v1/entities?type=${type}&options=keyValues&limit=1000`);
    expect(kv.res.status).toBe(200);
    expect(kv.res.headers.get('link')).toMatch(
      /^<http:\/\/127\.0\.0\.1:\d+\/ngsi-ld\/v1\/context\.jsonld>; rel="http:\/\/www\.w3\.org\/ns\/json-ld#context"; type="application\/ld\+json"$/,
    );
    expect(kv.res.headers.get('access-control-allow-origin')).toBe('*');
    const simple = kv.body as Json[];
    expect(simple.length).toBeGreaterThan(0);
    for (const e of simple) validate(e);

    const norm = (await get(`/ngsi-ld/v1/entities?type=${type}&limit=1000`)).body as Json[];
    expect(norm.map((e) => e.id)).toEqual(simple.map((e) => e.id));
    // The measured attributes are there to check, not only checked when present.
    for (const name of OBSERVED[type]?.whenPresent ?? [])
      expect(
        norm.some((e) => e[name] !== undefined),
        `${type} ${name}`,
      ).toBe(true);
    norm.forEach((e, i) => {
      checkNormalized(e);
      const reduced = reduceNormalized(e);
      validate(reduced);
      expect(reduced).toEqual(simple[i]);
    });
  });

  it.each(TYPES)(
    'emits for %s only attributes its Smart Data Model defines, but machi extras',
    async (type) => {
      const known = modelAttributes(type);
      const allowed = new Set([...known, ...(MACHI_EXTRAS[type] ?? [])]);
      const entities = (await get(`/ngsi-ld/v1/entities?type=${type}&options=keyValues&limit=1000`))
        .body as Json[];
      const names = new Set(entities.flatMap((e) => Object.keys(e)));
      expect([...names].filter((n) => !allowed.has(n))).toEqual([]);
      // The extras really are extras (else they would not need listing), and the check has teeth.
      for (const extra of MACHI_EXTRAS[type] ?? []) expect(known.has(extra), extra).toBe(false);
      expect(known.has('currentLevl')).toBe(false);
    },
  );

  it('has a validator that refuses what the models forbid', () => {
    const base = {
      id: 'urn:ngsi-ld:Alert:x',
      type: 'Alert',
      alertSource: 'x',
      dateIssued: '2026-01-01T00:00:00Z',
    };
    expect(() => validate({ ...base, category: 'flood' })).toThrow(
      /category must be equal to one of the allowed values/,
    );
    expect(() => validate({ ...base, category: 'weather', dateIssued: '2026-01-01T00:00:00' })).toThrow(
      /must match format "date-time"/,
    );
    expect(() =>
      validate({ id: 'urn:ngsi-ld:Device:x', type: 'Device', controlledProperty: ['peopleCount'] }),
    ).toThrow();
    validate({ ...base, category: 'weather', subCategory: 'flood' });
  });

  it('maps machi data to the models as documented', async () => {
    const crowd = (await get('/ngsi-ld/v1/entities?type=CrowdFlowObserved&options=keyValues&limit=1000'))
      .body as Json[];
    expect(crowd.map((e) => e.peopleCount)).toEqual(w.libraryCounts);
    const flood = (await get('/ngsi-ld/v1/entities/urn:ngsi-ld:FloodMonitoring:fs-takeo-004')).body as Json;
    // The newest real reading: dry at stage 0 (the newer drill reading never reaches the public).
    expect(flood.currentLevel).toMatchObject({ type: 'Property', value: 0, unitCode: 'MTR' });
    expect((flood.currentLevel as Json).observedAt).toMatch(DATE_TIME);
    expect(flood.floodLevelStatus).toMatchObject({ value: 'Normal' });
    expect(flood.refDevice).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Device:fs-takeo-004' });
    const alerts = (await get('/ngsi-ld/v1/entities?type=Alert&options=keyValues')).body as Json[];
    // A drill's severity is informational, so no consumer takes it for a real emergency.
    expect(alerts.map((a) => [a.id, a.category, a.subCategory, a.severity, a.drill])).toEqual([
      ['urn:ngsi-ld:Alert:a-1', 'naturalDisaster', 'flood', 'high', false],
      ['urn:ngsi-ld:Alert:d-2', 'naturalDisaster', 'flood', 'informational', true],
    ]);
    // alertSource names an entity machi serves: the sensor that raised it, else the area's first sensor.
    expect(alerts.map((a) => a.alertSource)).toEqual([
      'urn:ngsi-ld:FloodMonitoring:fs-takeo-004',
      expect.stringMatching(/^urn:ngsi-ld:Device:/),
    ]);
    for (const source of alerts.map((a) => String(a.alertSource)))
      expect((await get(`/ngsi-ld/v1/entities/${source}`)).res.status, source).toBe(200);
    const camera = (await get('/ngsi-ld/v1/entities/urn%3Angsi-ld%3ADevice%3Apc-library-1?options=keyValues'))
      .body as Json;
    expect(camera).toMatchObject({ controlledProperty: ['occupancy'], deviceState: 'offline' });
  });

  it('carries the @context in the body for JSON-LD, and serves that context', async () => {
    const { res, body } = await get('/ngsi-ld/v1/entities/urn:ngsi-ld:Alert:a-1', {
      accept: 'application/ld+json',
    });
    expect(res.headers.get('content-type')).toBe('application/ld+json');
    expect(res.headers.get('link')).toBeNull();
    const context = String((body as Json)['@context']);
    const doc = (await get(new URL(context).pathname)).body as Json;
    expect(doc['@context']).toContain('https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld');
  });

  it('filters with q, pages with limit/offset and counts', async () => {
    const high = (
      await get('/ngsi-ld/v1/entities?type=CrowdFlowObserved&q=peopleCount>=80&options=keyValues')
    ).body as Json[];
    expect(high.map((e) => e.peopleCount)).toEqual(w.libraryCounts.filter((n) => n >= 80));
    const both = (await get('/ngsi-ld/v1/entities?type=Alert&q=severity=="informational";drill==true'))
      .body as Json[];
    expect(both.map((e) => e.id)).toEqual(['urn:ngsi-ld:Alert:d-2']);
    const page = await get('/ngsi-ld/v1/entities?type=CrowdFlowObserved&limit=5&offset=10&count=true');
    expect(page.res.headers.get('ngsild-results-count')).toBe(String(w.libraryCounts.length));
    expect((page.body as Json[]).length).toBe(2);
    const byId = (await get('/ngsi-ld/v1/entities?id=urn:ngsi-ld:Device:fs-takeo-004,urn:ngsi-ld:Alert:a-1'))
      .body as Json[];
    expect(byId.map((e) => e.id).sort()).toEqual([
      'urn:ngsi-ld:Alert:a-1',
      'urn:ngsi-ld:Device:fs-takeo-004',
    ]);
  });

  it('refuses garbage with ProblemDetails and a stable code', async () => {
    const cases: Array<[string, number, string]> = [
      ['/ngsi-ld/v1/entities', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=<script>', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&q=severity', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&q=a==b;', 400, 'MACHI_ERR_INVALID_REQUEST'],
      [`/ngsi-ld/v1/entities?type=Alert&q=${'x'.repeat(2000)}`, 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&limit=0', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&limit=100000', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&offset=-3', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&type=Device', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&options=everything', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities?type=Alert&georel=near', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/entities/urn:ngsi-ld:Alert:nope', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/ngsi-ld/v1/entities/not-a-urn', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/ngsi-ld/v1/entities/%E0%A4%A', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/ngsi-ld/v1/subscriptions', 404, 'MACHI_ERR_NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const { res, body } = await get(path);
      expect(res.status, path).toBe(status);
      expect(body, path).toMatchObject({
        code,
        type: expect.stringMatching(/^https:\/\/uri\.etsi\.org\/ngsi-ld\/errors\//),
      });
    }
    const post = await fetch(`${w.h.httpUrl}/ngsi-ld/v1/entities`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    // A type machi does not serve matches nothing, as in any NGSI-LD broker.
    const none = await get('/ngsi-ld/v1/entities?type=Unicorn&limit=0&count=true');
    expect(none.res.status).toBe(200);
    expect(none.body).toEqual([]);
    expect(none.res.headers.get('ngsild-results-count')).toBe('0');
  });

  it('is read back by a third-party NGSI-LD client (ngsildclient, PyPI) as by any broker', async () => {
    const port = new URL(w.h.httpUrl).port;
    const script = fileURLToPath(new URL('./ngsi-ld-witness.py', import.meta.url));
    const seen = JSON.parse(
      await pythonWitness('ngsildclient', '0.5.2', script, ['127.0.0.1', port]),
    ) as Record<string, Json[]> & { one: Json };
    for (const type of TYPES) {
      const ours = (await get(`/ngsi-ld/v1/entities?type=${type}&limit=1000`)).body as Json[];
      expect(
        seen[type]?.map((e) => e.id),
        type,
      ).toEqual(ours.map((e) => e.id));
      // What it parsed is the normalized entity, attribute for attribute (its @context aside).
      seen[type]?.forEach((e, i) => {
        const { '@context': _, ...rest } = e;
        expect(rest).toEqual(ours[i]);
      });
    }
    expect(seen.one.currentLevel).toMatchObject({ type: 'Property', value: 0, unitCode: 'MTR' });
  }, 400_000);
});
