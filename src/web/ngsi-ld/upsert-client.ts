// One batch to a context broker's POST /ngsi-ld/v1/entityOperations/upsert, until the broker took
// it. NGSI-LD answers 201/204 when every entity went in, and 207 Multi-Status with a
// BatchOperationResult ({success: [ids], errors: [{entityId, error: ProblemDetails}]}) when some did
// not: those are tried again when the error is the broker's (5xx, context not available), and
// logged with their ids and passed over when it is the entity's (4xx: trying again cannot help).
// Errors name entity ids, so a batch holding several readings of one sensor shares one fate.
import { type BackoffOptions, retry } from '../../lib/retry.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Rendered } from './model.ts';

/** How long one POST may take before it counts as failed (and is tried again). */
const POST_TIMEOUT_MS = 10_000;
const BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, jitter: 0.2 };

export interface UpsertTarget {
  /** The broker's base URL. */
  url: string;
  /** The @context URL sent in the Link header. */
  context: string;
  /** `update`: attributes not sent are kept (NGSI-LD's default replaces the entity's attributes). */
  mode?: 'update';
}

export interface EntityRefusal {
  id: string;
  status: number | undefined;
  detail: string;
}

/** What the broker did not take: to try again, and refused for good. */
interface Answer {
  again: Rendered[];
  refused: EntityRefusal[];
}

/** The whole batch refused (400, 413, 422): the same request would be refused again. */
class BatchRefused extends Error {}
/** Some entities are to be tried again: the error the retry loop sees. */
class NotAllTaken extends Error {}

/** NGSI-LD error types the broker answers for its own trouble, not the entity's. */
const BROKER_TROUBLE = /\/(InternalError|LdContextNotAvailable|OperationNotSupported)$/;

function isRetriable(error: { status?: unknown; type?: unknown } | undefined): boolean {
  const status = typeof error?.status === 'number' ? error.status : undefined;
  if (status !== undefined) return status >= 500 || status === 429 || status === 408;
  return BROKER_TROUBLE.test(String(error?.type ?? ''));
}

/** A 207's body, read per NGSI-LD; an unreadable one means every entity is tried again. */
export function readMultiStatus(entities: Rendered[], body: string): Answer {
  let errors: unknown;
  try {
    errors = (JSON.parse(body) as { errors?: unknown }).errors;
  } catch {
    return { again: entities, refused: [] };
  }
  if (!Array.isArray(errors)) return { again: entities, refused: [] };
  const againIds = new Set<string>();
  const refused: EntityRefusal[] = [];
  for (const raw of errors as Array<{ entityId?: unknown; error?: Record<string, unknown> }>) {
    const id = String(raw?.entityId ?? '');
    if (isRetriable(raw?.error)) againIds.add(id);
    else
      refused.push({
        id,
        status: typeof raw?.error?.status === 'number' ? raw.error.status : undefined,
        detail: String(raw?.error?.detail ?? raw?.error?.title ?? raw?.error?.type ?? 'no detail').slice(
          0,
          300,
        ),
      });
  }
  return { again: entities.filter((e) => againIds.has(String(e.id))), refused };
}

export class UpsertClient {
  private readonly endpoint: URL;

  constructor(
    private readonly target: UpsertTarget,
    private readonly log: Logger,
    private readonly backoff = BACKOFF,
  ) {
    this.endpoint = new URL(
      'ngsi-ld/v1/entityOperations/upsert',
      target.url.endsWith('/') ? target.url : `${target.url}/`,
    );
    if (target.mode) this.endpoint.searchParams.set('options', target.mode);
  }

  /** One POST; what of `entities` the broker did not take. */
  async post(entities: Rendered[], signal: AbortSignal): Promise<Answer> {
    const res = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        link: `<${this.target.context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
      },
      body: JSON.stringify(entities),
      redirect: 'error',
      signal: AbortSignal.any([signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
    });
    const body = await res.text().catch(() => '');
    if (res.status === 201 || res.status === 204) return { again: [], refused: [] };
    if (res.status === 207) return readMultiStatus(entities, body);
    if (res.status === 400 || res.status === 413 || res.status === 422)
      throw new BatchRefused(`HTTP ${res.status}: ${body.slice(0, 300)}`);
    throw new Error(`HTTP ${res.status}`);
  }

  /**
   * Resolves once the broker took every entity of `entities` or refused it for good (logged with
   * its id). Rejects when `signal` aborts or `active()` turns false first: the batch was not pushed,
   * so its Kafka offsets must not be committed.
   */
  async deliver(entities: Rendered[], signal: AbortSignal, active: () => boolean): Promise<void> {
    let pending = entities;
    try {
      await retry(
        async () => {
          const answer = await this.post(pending, signal);
          for (const r of answer.refused)
            this.log.error(
              { entityId: r.id, status: r.status, detail: r.detail },
              'context broker refused an entity: passed over',
            );
          if (answer.again.length > 0) {
            pending = answer.again;
            throw new NotAllTaken(`${answer.again.length} of the batch not taken (207)`);
          }
        },
        {
          ...this.backoff,
          signal,
          retriable: (err) => !(err instanceof BatchRefused) && active(),
          onRetry: (err) =>
            this.log.warn(
              { err: (err as Error).message, entities: pending.length },
              'upsert failed, retrying',
            ),
        },
      );
    } catch (err) {
      if (!(err instanceof BatchRefused)) throw err;
      this.log.error(
        { err: err.message, entityIds: pending.map((e) => e.id) },
        'context broker refused a batch: passed over',
      );
    }
  }
}
