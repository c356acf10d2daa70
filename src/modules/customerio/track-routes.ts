// Customer.io Track API: v1 (`/api/v1/customers/...`, `/api/v1/events`, `/api/v1/merge_customers`)
// and v2 (`/api/v2/entity`, `/api/v2/batch`). Basic auth site id : track API key.
// Parse -> normalise (normalize.ts, v2.ts) -> service.run -> `{}` once everything has committed.
import type { FastifyError, FastifyReply, FastifyRequest, onResponseAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { errorCatalogue } from '../../errors.ts';
import { errorBody, toAppError } from '../../http/errors.ts';
import type { TandemApp } from '../../http/types.ts';
import type { Metrics } from '../../metrics.ts';
import { MAX_BATCH_BYTES, MAX_REQUEST_BYTES, pathIdentifier, requiredId, v1Device, v1Event, v1Identify, v1Merge } from './normalize.ts';
import type { Op } from './ops.ts';
import type { CustomerioService } from './service.ts';
import { v2Batch, v2Operation } from './v2.ts';

export interface TrackRouteDeps {
  service: CustomerioService;
  metrics: Metrics;
}

const ok = z.object({}).describe('An empty object: the call is committed.');
const jsonObject = z.record(z.string(), z.unknown());
const identifierParams = z.object({
  identifier: z.string().describe('The person\'s id, an email address, or cio_<Tandem person id>'),
});
const batchErrors = z.object({
  errors: z.array(z.object({
    batch_index: z.number().int(), reason: z.string(), field: z.string(), message: z.string(),
  })),
});

/** v2 errors carry Customer.io's `errors: [{reason, field, message}]` next to the usual meta/code/field. */
function v2ErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const e = toAppError(err, request.routeOptions.config.tooLargeCode);
  const status = errorCatalogue[e.code].status;
  if (status >= 500) request.log.error({ err }, 'request failed');
  void reply.status(status).send({
    ...errorBody('customerio', e),
    errors: [{ reason: e.code, field: e.field ?? '', message: e.message }],
  });
}

export function registerTrackRoutes(app: TandemApp, deps: TrackRouteDeps): void {
  const { service, metrics } = deps;
  const tags = ['customerio'];
  const security = [{ trackKey: [] }];

  const countRequest: onResponseAsyncHookHandler = async (_request, reply) => {
    metrics.ingestRequests.inc({ source: 'customerio', status: `${Math.floor(reply.statusCode / 100)}xx` });
  };
  const v1 = {
    preHandler: app.auth.trackKey,
    onResponse: countRequest,
    bodyLimit: MAX_REQUEST_BYTES,
    config: { dialect: 'customerio' as const, tooLargeCode: 'event.too_large' as const, inputText: 'replace' as const },
  };
  const run = async (ws: string, ops: Op[]): Promise<Record<string, never>> => {
    await service.run(ws, ops);
    return {};
  };

  app.put('/api/v1/customers/:identifier', {
    ...v1,
    schema: {
      tags, security, summary: 'Add or update a person',
      description: 'Attributes at the top level of the body; `""` or null removes one; `_update: true` never creates; '
        + '`anonymous_id` joins that anonymous activity; `cio_relationships` adds or removes object relationships.',
      params: identifierParams, body: jsonObject.optional(), response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, v1Identify(pathIdentifier(req.params.identifier), req.body)));

  app.delete('/api/v1/customers/:identifier', {
    ...v1,
    schema: { tags, security, summary: 'Delete a person (not suppressed: later calls may add them again)', params: identifierParams, response: { 200: ok } },
  }, async (req) => run(req.workspaceId, [{ op: 'delete', who: pathIdentifier(req.params.identifier) }]));

  app.post('/api/v1/customers/:identifier/suppress', {
    ...v1,
    schema: { tags, security, summary: 'Delete a person and suppress their identifiers', params: identifierParams, response: { 200: ok } },
  }, async (req) => run(req.workspaceId, [{ op: 'suppress', who: pathIdentifier(req.params.identifier) }]));

  app.post('/api/v1/customers/:identifier/unsuppress', {
    ...v1,
    schema: { tags, security, summary: 'Lift a suppression (the deleted profile is not restored)', params: identifierParams, response: { 200: ok } },
  }, async (req) => run(req.workspaceId, [{ op: 'unsuppress', who: pathIdentifier(req.params.identifier) }]));

  app.post('/api/v1/customers/:identifier/events', {
    ...v1,
    schema: {
      tags, security, summary: 'Track an event, page view or screen view for a person',
      description: 'Body {name, data, timestamp (unix seconds), id (dedupe key), type: event|page|screen}.',
      params: identifierParams, body: jsonObject, response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, [v1Event(pathIdentifier(req.params.identifier), req.body)]));

  app.post('/api/v1/events', {
    ...v1,
    schema: {
      tags, security, summary: 'Track an anonymous event',
      description: 'Body {name, data, anonymous_id, timestamp, id, type}. Without anonymous_id the event is kept on an '
        + 'anonymous profile per data.recipient (or a fresh one).',
      body: jsonObject, response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, [v1Event(null, req.body)]));

  app.post('/api/v1/merge_customers', {
    ...v1,
    schema: {
      tags, security, summary: 'Merge secondary into primary',
      description: 'Body {primary: {id|email|cio_id}, secondary: {id|email|cio_id}}. The primary\'s attributes win.',
      body: jsonObject, response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, [v1Merge(req.body)]));

  app.put('/api/v1/customers/:identifier/devices', {
    ...v1,
    schema: {
      tags, security, summary: 'Add or update a device',
      description: 'Body {device: {id, platform: ios|android, last_used, attributes}}.',
      params: identifierParams, body: jsonObject, response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, [v1Device(pathIdentifier(req.params.identifier), req.body)]));

  app.delete('/api/v1/customers/:identifier/devices/:device_id', {
    ...v1,
    schema: {
      tags, security, summary: 'Delete a device',
      params: identifierParams.extend({ device_id: z.string() }), response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, [{
    op: 'delete_device', who: pathIdentifier(req.params.identifier), deviceId: requiredId(req.params.device_id, 'device_id'),
  }]));

  app.post('/api/v2/entity', {
    ...v1,
    errorHandler: v2ErrorHandler,
    schema: {
      tags, security, summary: 'One v2 operation on a person or an object',
      description: '{type: person|object, action, identifiers, ...} as Customer.io documents it; 32 KB at most.',
      body: jsonObject, response: { 200: ok },
    },
  }, async (req) => run(req.workspaceId, v2Operation(req.body)));

  app.post('/api/v2/batch', {
    ...v1,
    bodyLimit: MAX_BATCH_BYTES,
    config: { dialect: 'customerio', tooLargeCode: 'batch.too_large', inputText: 'replace' },
    errorHandler: v2ErrorHandler,
    schema: {
      tags, security, summary: 'Several v2 operations',
      description: '{batch: [operations]}: 500 KB in all, 32 KB each. Valid operations are carried out even when others are '
        + 'invalid; the invalid ones are answered with 207 and their batch_index.',
      body: jsonObject, response: { 200: ok, 207: batchErrors },
    },
  }, async (req, reply) => {
    const items = v2Batch(req.body);
    await service.run(req.workspaceId, items.flatMap((i) => ('ops' in i ? i.ops : [])));
    const errors = items.flatMap((i) => ('error' in i
      ? [{ batch_index: i.index, reason: i.error.code, field: i.error.field ?? '', message: i.error.message }]
      : []));
    if (errors.length > 0) return reply.status(207).send({ errors });
    return reply.status(200).send({});
  });
}
