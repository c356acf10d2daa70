// The REST API as `tandem pull` and `tandem apply` use it: content (/api/content/<kind>), segments
// (/api/segments) and, to check references, topics. The transport is injectable: plain fetch against a
// running Tandem, or app.inject in tests.
import { z } from 'zod';
import { AppError, errorCatalogue, type ErrorCode } from '../errors.ts';
import { KIND_PATH, RESOURCE_KINDS, type ResourceKind } from '../modules/content/index.ts';

export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Starts with /api/. */
  path: string;
  body?: unknown;
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

const TIMEOUT_MS = 30_000;

/**
 * fetch against `baseUrl` with the App API key as Bearer. The URL is the operator's own Tandem given on
 * the command line (not user-supplied content), so this does not go through src/net's address guard,
 * which would refuse the default http://127.0.0.1:3000.
 */
export function httpTransport(baseUrl: string, appKey: string): Transport {
  const base = baseUrl.replace(/\/+$/, '');
  return async (req) => {
    let res: Response;
    try {
      res = await fetch(`${base}${req.path}`, {
        method: req.method,
        headers: {
          authorization: `Bearer ${appKey}`, accept: 'application/json',
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new AppError('ascode.unreachable', `Could not reach Tandem at ${base}: ${failureCause(err)}`, { field: 'url' });
    }
    return { status: res.status, body: await jsonBody(res) };
  };
}

/** Why fetch could not reach the server (undici puts the socket error in `cause`). */
export function failureCause(err: unknown): string {
  return err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
}

/** The answer's JSON body; undefined when it is empty or not JSON. */
export async function jsonBody(res: { text(): Promise<string> }): Promise<unknown> {
  const text = await res.text();
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

const version = z.object({ version: z.number().int(), body: z.record(z.string(), z.unknown()) });

const summary = z.object({
  id: z.string(), kind: z.enum(RESOURCE_KINDS), name: z.string(),
  draftVersion: z.number().int(), publishedVersion: z.number().int().nullable(),
});
export type RemoteSummary = z.infer<typeof summary>;

const detail = summary.extend({ draft: version, published: version.nullable() });
export type RemoteDetail = z.infer<typeof detail>;

const page = z.object({ resources: z.array(summary), next: z.string().nullable() });

const segment = z.object({
  id: z.string(), key: z.string(), name: z.string(), description: z.string(), kind: z.enum(['dynamic', 'manual']),
  definition: z.unknown(), version: z.number().int(),
});
export type RemoteSegmentView = z.infer<typeof segment>;

/** What the files hold of a segment: everything the API takes on create and replace. */
export interface SegmentBody {
  key: string;
  name: string;
  description: string;
  kind: 'dynamic' | 'manual';
  definition?: unknown;
}

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) });

function isCatalogued(code: string): code is ErrorCode {
  return Object.hasOwn(errorCatalogue, code);
}

/** Turns a non-2xx answer into an AppError carrying the server's code (and field) when it sent one. */
function failure(req: TransportRequest, res: TransportResponse): AppError {
  const what = `${req.method} ${req.path}`;
  const err = errorBody.safeParse(res.body);
  if (err.success && isCatalogued(err.data.error.code)) {
    const { code, message, field } = err.data.error;
    const hint = code.startsWith('auth.') ? ' (check --key or TANDEM_APP_KEY)' : '';
    return new AppError(code, `${what}: ${message}${field ? ` (field ${field})` : ''}${hint}`, field ? { field } : {});
  }
  return new AppError('ascode.remote_error', `${what}: unexpected HTTP ${res.status} from the server`, { status: res.status });
}

export function createContentClient(transport: Transport) {
  async function call<T>(req: TransportRequest, expect: number, schema: z.ZodType<T>, what = 'content resource'): Promise<T> {
    const res = await transport(req);
    if (res.status !== expect) throw failure(req, res);
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      throw new AppError('ascode.remote_error', `${req.method} ${req.path}: the answer is not a Tandem ${what} (is the URL a Tandem server?)`);
    }
    return parsed.data;
  }
  async function remove(path: string): Promise<void> {
    const req: TransportRequest = { method: 'DELETE', path };
    const res = await transport(req);
    if (res.status !== 204) throw failure(req, res);
  }

  const base = (kind: ResourceKind) => `/api/content/${KIND_PATH[kind]}`;
  const one = (kind: ResourceKind, id: string) => `${base(kind)}/${encodeURIComponent(id)}`;

  return {
    /** Every resource of a kind, following `next` page by page. */
    async list(kind: ResourceKind): Promise<RemoteSummary[]> {
      const out: RemoteSummary[] = [];
      let after: string | null = null;
      do {
        const query: string = after === null ? '' : `&after=${encodeURIComponent(after)}`;
        const got: z.infer<typeof page> = await call({ method: 'GET', path: `${base(kind)}?limit=500${query}` }, 200, page);
        out.push(...got.resources);
        after = got.next;
      } while (after !== null);
      return out;
    },
    get: (kind: ResourceKind, id: string) => call({ method: 'GET', path: one(kind, id) }, 200, detail),
    create: (kind: ResourceKind, name: string, body: Record<string, unknown>) =>
      call({ method: 'POST', path: base(kind), body: { name, body } }, 201, detail),
    update: (kind: ResourceKind, id: string, body: Record<string, unknown>) =>
      call({ method: 'PUT', path: one(kind, id), body: { body } }, 200, detail),
    /** `force` publishes a template despite lint errors (the server refuses them otherwise). */
    publish: (kind: ResourceKind, id: string, v: number, force = false) =>
      call({ method: 'POST', path: `${one(kind, id)}/publish`, body: { version: v, ...(force && kind === 'template' ? { force: true } : {}) } }, 200, detail),
    remove: (kind: ResourceKind, id: string) => remove(one(kind, id)),

    /** Segments and manual lists, addressed by id (the API also takes keys). Members are never read or written. */
    segments: {
      list: async () => (await call({ method: 'GET', path: '/api/segments' }, 200, z.object({ segments: z.array(segment) }), 'segment list')).segments,
      create: (input: SegmentBody) => call({ method: 'POST', path: '/api/segments', body: input }, 201, segment, 'segment'),
      /** PUT replaces name, description and definition (the kind cannot change). */
      update: (id: string, input: SegmentBody) =>
        call({ method: 'PUT', path: `/api/segments/${encodeURIComponent(id)}`, body: input }, 200, segment, 'segment'),
      remove: (id: string) => remove(`/api/segments/${encodeURIComponent(id)}`),
    },

    /** The workspace's consent topic keys (segment definitions may name them). */
    topicKeys: async () => (await call({ method: 'GET', path: '/api/topics' }, 200, z.object({ topics: z.array(z.object({ key: z.string() })) }), 'topic list'))
      .topics.map((t) => t.key),
  };
}

export type ContentClient = ReturnType<typeof createContentClient>;

/**
 * Runs `fn` over `items` with at most `limit` at a time, keeping the order of the results. After a
 * failure no new item is started (the first error is thrown once the running ones have settled).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((r) => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return out;
}
