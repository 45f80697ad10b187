// NGSI-LD, read-only, at the standard paths: GET /ngsi-ld/v1/entities (type, id, q, limit, offset,
// count, options=keyValues) and /ngsi-ld/v1/entities/{id}. Plain JSON answers carry the @context
// as a Link header, JSON-LD answers (Accept: application/ld+json) carry it in each entity; both
// point at /ngsi-ld/v1/context.jsonld, which lists the core context and the Smart Data Models'.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/config.ts';
import type { HttpPlugin } from '../../http/app.ts';
import type { Logger } from '../../observability/logger.ts';
import { type ErrorCode, machiErr } from '../../schemas/reasons.ts';
import { type Gate, publicOrigin, sendJsonCached } from '../api/public-http.ts';
import type { OpenDataSource } from '../api/source.ts';
import {
  alert,
  alertSourceOf,
  crowdFlow,
  device,
  ENTITY_TYPES,
  type EntityType,
  floodMonitoring,
  typeOfId,
} from './entities.ts';
import { type Entity, keyValues, normalized } from './model.ts';
import { matches, parseQ } from './q.ts';

export const NGSI_PREFIX = '/ngsi-ld/v1/';
export const CONTEXT_PATH = `${NGSI_PREFIX}context.jsonld`;
const CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
const CONTEXTS = [
  CORE_CONTEXT,
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Device/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld',
];
/** NGSI-LD's own page size bounds. */
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;
/** CrowdFlowObserved entities reach back this far (one per site and quarter hour). */
const CROWD_WINDOW_MS = 24 * 3_600_000;
const MAX_AGE_S = 15;

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_:/.#-]{0,255}$/;
const PARAMS = new Set(['type', 'id', 'q', 'limit', 'offset', 'count', 'options']);

/** NGSI-LD's ProblemDetails, with machi's stable code beside them. */
function problem(res: ServerResponse, status: number, kind: string, code: ErrorCode, detail: string): void {
  const body = JSON.stringify({
    type: `https://uri.etsi.org/ngsi-ld/errors/${kind}`,
    title: kind,
    detail,
    error: detail,
    code: machiErr(code),
  });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const badRequest = (res: ServerResponse, detail: string) =>
  problem(res, 400, 'BadRequestData', 'INVALID_REQUEST', detail);

export interface NgsiLdOptions {
  config: Config;
  gate: Gate;
  source: OpenDataSource;
  log: Logger;
}

export const ngsiLdPlugin: HttpPlugin<NgsiLdOptions> = (app, { config, gate, source, log }) => {
  const contextUrl = (req: IncomingMessage) => `${publicOrigin(config, req)}${CONTEXT_PATH}`;

  /** Every entity of `types`, freshly read. */
  async function entities(types: readonly EntityType[]): Promise<Entity[]> {
    const now = Date.now();
    const parts = await Promise.all(
      types.map(async (type): Promise<Entity[]> => {
        if (type === 'CrowdFlowObserved') {
          const rows = await source.reads.crowd(new Date(now - CROWD_WINDOW_MS), new Date(now));
          return rows.flatMap((r) => crowdFlow(r, source.registry) ?? []);
        }
        if (type === 'FloodMonitoring')
          return (await source.floodSensors()).flatMap((s) => floodMonitoring(s) ?? []);
        if (type === 'Device') return (await source.devices()).map(device);
        return source.activeAlerts().map((a) =>
          alert(
            {
              ...a,
              issuedAt: a.openedAt,
              validFrom: a.openedAt,
              modifiedAt: a.updatedAt,
              source: alertSourceOf(source.registry, a.areaId, source.triggeringSensor(a.id)),
            },
            source.registry,
          ),
        );
      }),
    );
    return parts.flat();
  }

  function send(req: IncomingMessage, res: ServerResponse, body: unknown, simplified: boolean): void {
    const ld = (req.headers.accept ?? '').includes('application/ld+json');
    const withContext = (e: Record<string, unknown>) => (ld ? { ...e, '@context': contextUrl(req) } : e);
    const render = (e: Entity) => withContext(simplified ? keyValues(e) : normalized(e));
    const out = Array.isArray(body) ? body.map(render) : render(body as Entity);
    if (!ld)
      res.setHeader(
        'link',
        `<${contextUrl(req)}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
      );
    sendJsonCached(req, res, out, MAX_AGE_S, ld ? 'application/ld+json' : 'application/json; charset=utf-8');
  }

  const simplifiedOf = (options: string | null): boolean | undefined => {
    const list = options?.split(',') ?? [];
    if (list.some((o) => o !== 'keyValues' && o !== 'normalized' && o !== 'sysAttrs')) return undefined;
    return list.includes('keyValues');
  };

  /** A data store did not answer: 503, logged. */
  const unavailable = (res: ServerResponse, err: unknown) => {
    log.warn({ err: (err as Error).message }, 'ngsi-ld: entities query failed');
    return problem(res, 503, 'InternalError', 'UNAVAILABLE', 'a data store did not answer, retry shortly');
  };

  app.route(
    'GET',
    CONTEXT_PATH,
    gate((req, res) => sendJsonCached(req, res, { '@context': CONTEXTS }, 86_400, 'application/ld+json')),
  );

  app.route(
    'GET',
    `${NGSI_PREFIX}entities`,
    gate(async (req, res, url) => {
      const p = url.searchParams;
      const unknown = [...p.keys()].find((k) => !PARAMS.has(k));
      if (unknown) return badRequest(res, `unsupported parameter ${unknown.slice(0, 40)}`);
      if ([...PARAMS].some((k) => p.getAll(k).length > 1))
        return badRequest(res, 'a query parameter is repeated');
      const simplified = simplifiedOf(p.get('options'));
      if (simplified === undefined) return badRequest(res, 'options: keyValues, normalized or sysAttrs');
      const ids = p.get('id')?.split(',');
      const typeList = p.get('type')?.split(',');
      if (!ids && !typeList && !p.has('q')) return badRequest(res, 'type, id or q is required');
      // A type machi does not serve matches nothing (NGSI-LD answers an empty list); a malformed one is refused.
      if (typeList?.some((t) => !TYPE_NAME.test(t))) return badRequest(res, 'type: entity type names');
      const terms = p.has('q') ? parseQ(p.get('q') ?? '') : [];
      if ('error' in terms) return badRequest(res, terms.error);
      const limit = p.has('limit') ? Number(p.get('limit')) : DEFAULT_LIMIT;
      const offset = p.has('offset') ? Number(p.get('offset')) : 0;
      const count = p.get('count');
      if (count !== null && count !== 'true' && count !== 'false')
        return badRequest(res, 'count: true or false');
      // limit=0 asks for the count alone.
      if (!Number.isInteger(limit) || limit < (count === 'true' ? 0 : 1) || limit > MAX_LIMIT)
        return badRequest(res, `limit: an integer from 1 (0 with count=true) to ${MAX_LIMIT}`);
      if (!Number.isInteger(offset) || offset < 0 || offset > 1_000_000)
        return badRequest(res, 'offset: 0 or more');
      // Only the types asked for (or named by the ids) are read.
      const fromIds = ids?.map(typeOfId).filter((t): t is EntityType => t !== undefined);
      const types = ENTITY_TYPES.filter(
        (t) => (!typeList || typeList.includes(t)) && (!fromIds || fromIds.includes(t)),
      );
      let found: Entity[];
      try {
        found = (await entities(types)).filter(
          (e) => (!ids || ids.includes(e.id)) && matches(keyValues(e), terms),
        );
      } catch (err) {
        return unavailable(res, err);
      }
      if (count === 'true') res.setHeader('ngsild-results-count', String(found.length));
      send(req, res, found.slice(offset, offset + limit), simplified);
    }),
  );

  app.route(
    'GET',
    `${NGSI_PREFIX}entities/*`,
    gate(async (req, res, url) => {
      let id: string;
      try {
        id = decodeURIComponent(url.pathname.slice(`${NGSI_PREFIX}entities/`.length));
      } catch {
        return badRequest(res, 'the entity id is not valid percent-encoding');
      }
      const simplified = simplifiedOf(url.searchParams.get('options'));
      if (simplified === undefined) return badRequest(res, 'options: keyValues, normalized or sysAttrs');
      const type = typeOfId(id);
      let entity: Entity | undefined;
      try {
        entity = type ? (await entities([type])).find((e) => e.id === id) : undefined;
      } catch (err) {
        return unavailable(res, err);
      }
      if (!entity) return problem(res, 404, 'ResourceNotFound', 'NOT_FOUND', `no entity ${id.slice(0, 200)}`);
      send(req, res, entity, simplified);
    }),
  );

  app.route(
    'GET',
    `${NGSI_PREFIX}*`,
    gate((_req, res) =>
      problem(res, 404, 'ResourceNotFound', 'NOT_FOUND', 'not an endpoint of this read-only NGSI-LD API'),
    ),
  );
};
