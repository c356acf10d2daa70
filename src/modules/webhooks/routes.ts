// /api/webhooks/endpoints: endpoints (CRUD, secret rotation, a test message) and their recent messages.
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import { maskUrlPassword } from '../../secrets.ts';
import type { WebhookService } from './service.ts';
import type { EndpointMessage, WebhookEndpoint, WebhookEndpointWithSecret } from './types.ts';
import { EVENT_TYPES } from './types.ts';

const endpointView = z.object({
  id: z.string(), url: z.string(), description: z.string(),
  eventTypes: z.array(z.string()).describe(`Subscribed event types; ["*"] is every type (${EVENT_TYPES.join(', ')})`),
  status: z.enum(['active', 'disabled']),
  disabledReason: z.string().nullable(), disabledAt: z.string().nullable(),
  createdAt: z.string(), updatedAt: z.string(),
});
const withSecretView = endpointView.extend({
  secret: z.string().describe('whsec_ + base64 of 24 bytes: verify signatures with it. Shown only on create and rotate'),
});
const attemptView = z.object({
  attempt: z.number().int(), at: z.string(), httpStatus: z.number().int().nullable(),
  errorCode: z.string().nullable().describe('net.* when no HTTP answer came (refused address, timeout, unreachable)'),
  error: z.string().nullable(), durationMs: z.number().int(),
});
const messageView = z.object({
  id: z.string().describe('The webhook-id header (the same on every attempt)'), type: z.string(),
  payload: z.object({ type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }).describe('The JSON body sent'),
  createdAt: z.string(), status: z.enum(['pending', 'delivered', 'failed']),
  nextAttemptAt: z.string().nullable(), attempts: z.array(attemptView),
});

const url = z.string().min(1).max(2000).describe('http(s) URL; private and loopback addresses are refused');
const description = z.string().max(500);
const eventTypes = z.array(z.string().min(1).max(100)).min(1).max(50);
const idParams = z.object({ id: z.string().max(100) });

function endpointOut(e: WebhookEndpoint): z.infer<typeof endpointView> {
  return {
    // Credentials in the URL (https://user:pass@host/) are a secret like the signing secret.
    id: e.id, url: maskUrlPassword(e.url), description: e.description, eventTypes: e.eventTypes, status: e.status,
    disabledReason: e.disabledReason, disabledAt: e.disabledAt?.toISOString() ?? null,
    createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString(),
  };
}

function withSecretOut(e: WebhookEndpointWithSecret): z.infer<typeof withSecretView> {
  return { ...endpointOut(e), secret: e.secret };
}

function messageOut(m: EndpointMessage): z.infer<typeof messageView> {
  return {
    id: m.id, type: m.type, payload: m.payload, createdAt: m.createdAt.toISOString(), status: m.status,
    nextAttemptAt: m.nextAttemptAt?.toISOString() ?? null,
    attempts: m.attempts.map((a) => ({ ...a, at: a.at.toISOString() })),
  };
}

export function registerWebhookRoutes(app: TandemApp, webhooks: WebhookService): void {
  const tags = ['webhooks'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const base = '/api/webhooks/endpoints';

  app.get(base, {
    preHandler, config,
    schema: {
      tags, summary: 'Webhook endpoints, oldest first',
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(500).default(100),
        after: z.string().max(100).optional().describe('The `next` of the previous page'),
      }),
      response: { 200: z.object({ endpoints: z.array(endpointView), next: z.string().nullable() }) },
    },
  }, async (req) => {
    const page = await webhooks.list(req.workspaceId, { limit: req.query.limit, after: req.query.after });
    return { endpoints: page.endpoints.map(endpointOut), next: page.next };
  });

  app.post(base, {
    preHandler, config,
    schema: {
      tags, summary: 'Add an endpoint; the answer holds its signing secret',
      body: z.object({ url, description: description.optional(), eventTypes }).strict(),
      response: { 201: withSecretView },
    },
  }, async (req, reply) => reply.status(201).send(withSecretOut(await webhooks.create(req.workspaceId, req.body))));

  app.get(`${base}/:id`, {
    preHandler, config,
    schema: { tags, summary: 'One endpoint (without its secret)', params: idParams, response: { 200: endpointView } },
  }, async (req) => endpointOut(await webhooks.get(req.workspaceId, req.params.id)));

  app.patch(`${base}/:id`, {
    preHandler, config,
    schema: {
      tags, summary: 'Change an endpoint; status "active" re-enables one that was disabled',
      params: idParams,
      body: z.object({
        url: url.optional(), description: description.optional(), eventTypes: eventTypes.optional(),
        status: z.enum(['active', 'disabled']).optional(),
      }).strict(),
      response: { 200: endpointView },
    },
  }, async (req) => endpointOut(await webhooks.update(req.workspaceId, req.params.id, req.body)));

  app.delete(`${base}/:id`, {
    preHandler, config,
    schema: { tags, summary: 'Delete an endpoint, its messages\' deliveries and pending attempts', params: idParams, response: { 204: z.null() } },
  }, async (req, reply) => {
    await webhooks.delete(req.workspaceId, req.params.id);
    return reply.status(204).send(null);
  });

  app.post(`${base}/:id/rotate-secret`, {
    preHandler, config,
    schema: { tags, summary: 'Replace the signing secret (the old one stops at once)', params: idParams, response: { 200: withSecretView } },
  }, async (req) => withSecretOut(await webhooks.rotateSecret(req.workspaceId, req.params.id)));

  app.post(`${base}/:id/test`, {
    preHandler, config,
    schema: {
      tags, summary: 'Send a webhook.test message to this endpoint only', params: idParams,
      response: { 202: z.object({ messageId: z.string() }) },
    },
  }, async (req, reply) => reply.status(202).send({ messageId: await webhooks.sendTest(req.workspaceId, req.params.id) }));

  app.get(`${base}/:id/messages`, {
    preHandler, config,
    schema: {
      tags, summary: 'The endpoint\'s recent messages with every delivery attempt, newest first', params: idParams,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.object({ messages: z.array(messageView) }) },
    },
  }, async (req) => ({ messages: (await webhooks.messages(req.workspaceId, req.params.id, req.query.limit)).map(messageOut) }));
}
