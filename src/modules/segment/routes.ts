// Segment HTTP Tracking API: /v1/identify|track|page|screen|group|alias|batch (and /v1/import), and the
// one-letter paths of the browser library @segment/analytics-next (/v1/i|t|p|s|g|a and /v1/b).
// Parse -> normalise (normalize.ts) -> services.ingest -> {"success": true} once it has committed.
import { PassThrough, Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { onRequestAsyncHookHandler, onResponseAsyncHookHandler, preParsingHookHandler } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import { AppError } from '../../errors.ts';
import type { TandemApp } from '../../http/types.ts';
import type { Metrics } from '../../metrics.ts';
import type { IncomingEvent, IngestResult } from '../ingest/index.ts';
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, SEGMENT_KINDS, normalizeBatch, normalizeSingle } from './normalize.ts';

export interface SegmentDeps {
  ingest: { ingest(workspaceId: string, events: IncomingEvent[], opts: { source: 'segment' }): Promise<IngestResult> };
  clock: Clock;
  metrics: Metrics;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-max-age': '86400',
} as const;
/**
 * Request headers a preflight may ask for: analytics-next sends Authorization (Basic, the write key) and,
 * on a retry, X-Retry-Count; its `deliveryStrategy.config.headers` may add more. Other names are left
 * out of the answer, so the browser refuses them.
 */
const ALLOWED_HEADERS = new Set(['content-type', 'authorization', 'x-retry-count', 'accept']);
const HEADER_NAME = /^[a-z0-9-]{1,64}$/;

function allowHeaders(requested: string | string[] | undefined): string {
  const asked = (Array.isArray(requested) ? requested.join(',') : requested ?? '').split(',')
    .map((h) => h.trim().toLowerCase()).filter((h) => HEADER_NAME.test(h));
  return [...new Set(['content-type', 'authorization', ...asked.filter((h) => ALLOWED_HEADERS.has(h) || h.startsWith('x-'))])].join(', ');
}

/** analytics-next posts each call to `/v1/<first letter of its type>` and batches to `/v1/b`. */
export const BROWSER_PATHS = {
  identify: '/v1/i', track: '/v1/t', page: '/v1/p', screen: '/v1/s', group: '/v1/g', alias: '/v1/a', batch: '/v1/b',
} as const satisfies Record<(typeof SEGMENT_KINDS)[number] | 'batch', string>;

/** Browser analytics.js posts from any origin; errors carry the header too so the page can read them. */
const cors: onRequestAsyncHookHandler = async (_request, reply) => {
  reply.header('access-control-allow-origin', '*');
};

type DecodedStream = PassThrough & { receivedEncodedLength: number };

/**
 * Content-Encoding: gzip / deflate. The Node client (@segment/analytics-node 3.x) sends plain JSON,
 * other clients and proxies compress. bodyLimit applies to the decompressed bytes (Fastify checks
 * both), and receivedEncodedLength lets Fastify match the compressed bytes to Content-Length.
 */
const decodeBody: preParsingHookHandler = (request, _reply, payload, done) => {
  const encoding = (request.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') {
    done(null, payload);
    return;
  }
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    done(new AppError('request.unsupported_media_type', `Content-Encoding ${encoding} is not supported; use gzip or none.`,
      { field: 'content-encoding' }));
    return;
  }
  const out = new PassThrough() as DecodedStream;
  out.receivedEncodedLength = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, next) {
      out.receivedEncodedLength += chunk.length;
      next(null, chunk);
    },
  });
  const inflate = encoding === 'deflate' ? createInflate() : createGunzip();
  // Not stream.pipeline: it would destroy `out` with zlib's own error before we can name it.
  payload.on('error', (err) => out.destroy(err));
  inflate.on('error', () => {
    out.destroy(new AppError('request.invalid_encoding', `The ${encoding} body could not be decompressed.`, { field: 'body' }));
  });
  payload.pipe(count).pipe(inflate).pipe(out);
  done(null, out);
};

const success = z.object({ success: z.literal(true) });

export function registerSegmentRoutes(app: TandemApp, deps: SegmentDeps): void {
  const { ingest, clock, metrics } = deps;
  const source = 'segment' as const;

  const countRequest: onResponseAsyncHookHandler = async (_request, reply) => {
    metrics.ingestRequests.inc({ source, status: `${Math.floor(reply.statusCode / 100)}xx` });
  };

  async function store(workspaceId: string, events: IncomingEvent[]): Promise<{ success: true }> {
    const end = metrics.ingestDuration.startTimer({ source });
    const result = await ingest.ingest(workspaceId, events, { source });
    end();
    const counts = new Map<string, number>();
    for (const o of result.outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    for (const [outcome, n] of counts) metrics.ingestEvents.inc({ source, outcome }, n);
    return { success: true };
  }

  const common = {
    onRequest: cors,
    preParsing: decodeBody,
    preHandler: app.auth.writeKey,
    onResponse: countRequest,
  };
  const tags = ['segment'];
  const security = [{ writeKey: [] }];

  // The browser paths are the same routes under another name (listed in the OpenAPI document too).
  for (const kind of SEGMENT_KINDS) {
    for (const path of [`/v1/${kind}`, BROWSER_PATHS[kind]]) {
      app.post(path, {
        ...common,
        bodyLimit: MAX_EVENT_BYTES,
        config: { dialect: 'segment', tooLargeCode: 'event.too_large', inputText: 'replace' },
        schema: {
          tags, security, summary: path === BROWSER_PATHS[kind] ? `Segment ${kind} call (analytics-next's short path)` : `Segment ${kind} call`,
          description: `Segment HTTP Tracking API. Body as Segment documents it; JSON sent as text/plain is accepted. Also at ${BROWSER_PATHS[kind]} (analytics-next).`,
          response: { 200: success },
        },
      }, async (request) => {
        const event = normalizeSingle(kind, request.body, { receivedAt: clock.now(), ip: request.ip });
        return store(request.workspaceId, [event]);
      });
    }
  }

  for (const path of ['/v1/batch', '/v1/import', BROWSER_PATHS.batch]) {
    app.post(path, {
      ...common,
      bodyLimit: MAX_BATCH_BYTES,
      config: { dialect: 'segment', tooLargeCode: 'batch.too_large', inputText: 'replace' },
      schema: {
        tags, security, summary: path === '/v1/import' ? 'Segment import (same as batch)' : path === BROWSER_PATHS.batch ? 'Segment batch (analytics-next\'s short path)' : 'Segment batch',
        description: `Up to 2500 calls, 500 KB in all, 32 KB each. Atomic: one invalid call rejects the whole batch.${path === '/v1/batch' ? ` Also at ${BROWSER_PATHS.batch} (analytics-next).` : ''}`,
        response: { 200: success },
      },
    }, async (request) => {
      const events = normalizeBatch(request.body, { receivedAt: clock.now(), ip: request.ip });
      return store(request.workspaceId, events);
    });
  }

  for (const path of [...SEGMENT_KINDS.map((k) => `/v1/${k}`), '/v1/batch', '/v1/import', ...Object.values(BROWSER_PATHS)]) {
    app.options(path, { config: { dialect: 'segment' }, schema: { hide: true } }, async (request, reply) =>
      reply.status(204).headers(CORS_HEADERS)
        .header('access-control-allow-headers', allowHeaders(request.headers['access-control-request-headers'])).send());
  }
}
