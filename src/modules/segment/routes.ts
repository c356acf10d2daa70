// Segment HTTP Tracking API: /v1/identify|track|page|screen|group|alias|batch (and /v1/import).
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
  'access-control-allow-headers': 'Content-Type, Authorization',
  'access-control-max-age': '86400',
} as const;

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

  for (const kind of SEGMENT_KINDS) {
    app.post(`/v1/${kind}`, {
      ...common,
      bodyLimit: MAX_EVENT_BYTES,
      config: { dialect: 'segment', tooLargeCode: 'event.too_large', inputText: 'replace' },
      schema: {
        tags, security, summary: `Segment ${kind} call`,
        description: 'Segment HTTP Tracking API. Body as Segment documents it; JSON sent as text/plain is accepted.',
        response: { 200: success },
      },
    }, async (request) => {
      const event = normalizeSingle(kind, request.body, { receivedAt: clock.now(), ip: request.ip });
      return store(request.workspaceId, [event]);
    });
  }

  for (const path of ['/v1/batch', '/v1/import']) {
    app.post(path, {
      ...common,
      bodyLimit: MAX_BATCH_BYTES,
      config: { dialect: 'segment', tooLargeCode: 'batch.too_large', inputText: 'replace' },
      schema: {
        tags, security, summary: path === '/v1/batch' ? 'Segment batch' : 'Segment import (same as batch)',
        description: 'Up to 2500 calls, 500 KB in all, 32 KB each. Atomic: one invalid call rejects the whole batch.',
        response: { 200: success },
      },
    }, async (request) => {
      const events = normalizeBatch(request.body, { receivedAt: clock.now(), ip: request.ip });
      return store(request.workspaceId, events);
    });
  }

  for (const path of [...SEGMENT_KINDS.map((k) => `/v1/${k}`), '/v1/batch', '/v1/import']) {
    app.options(path, { config: { dialect: 'segment' }, schema: { hide: true } },
      async (_request, reply) => reply.status(204).headers(CORS_HEADERS).send());
  }
}
