// Senders under /api/senders, and the public inbound webhooks providers call with bounces and
// complaints: POST /webhooks/inbound/<provider>/<senderId> (raw body; each provider's signature).
import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import { AppError } from '../../errors.ts';
import { INBOUND_SECURITY } from '../../http/openapi.ts';
import type { TandemApp } from '../../http/types.ts';
import { safeFetch } from '../../net/index.ts';
import {
  INBOUND_ADAPTERS, INBOUND_PROVIDERS, InboundError, type InboundOptions, type InboundProvider, type InboundRequest, type InboundResult,
} from './inbound/index.ts';
import type { InboundService } from './inbound-service.ts';
import { senderInput, type SenderService, type SenderView } from './senders.ts';
import type { SenderRow } from './types.ts';

const senderView = z.object({
  id: z.string(), channel: z.enum(['email', 'sms']), kind: z.string(), name: z.string(), isDefault: z.boolean(),
  ratePerSecond: z.number(), concurrency: z.number().int(), status: z.enum(['active', 'paused']), pausedReason: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()).describe('The config, secrets shown as ••••'),
});

function out(s: SenderView): z.infer<typeof senderView> {
  return {
    id: s.id, channel: s.channel, kind: s.kind, name: s.name, isDefault: s.isDefault, ratePerSecond: s.ratePerSecond,
    concurrency: s.concurrency, status: s.status, pausedReason: s.pausedReason, settings: s.settings,
  };
}

/**
 * Verifies and parses with the provider's adapter. The sender must hold that provider's secret, valid
 * as the adapter declares it; without it nothing is parsed and the request is refused.
 */
async function parse(provider: InboundProvider, req: InboundRequest, sender: SenderRow, clock: Clock): Promise<InboundResult> {
  const adapter = INBOUND_ADAPTERS[provider];
  const configured = (sender.config['inbound'] ?? {}) as Record<string, unknown>;
  const secrets = adapter.secrets.safeParse(configured[provider]);
  if (!secrets.success) throw new InboundError(`the sender has no ${provider} inbound secret`, 'signature');
  return (adapter.parse as (r: InboundRequest, s: unknown, o: InboundOptions) => Promise<InboundResult>)(req, secrets.data, { now: () => clock.now() });
}

export function registerSenderRoutes(app: TandemApp, deps: { senders: SenderService; inbound: InboundService; clock: Clock; findSender: (id: string) => Promise<{ workspaceId: string; sender: SenderRow } | undefined> }): void {
  const tandem = { preHandler: app.auth.appKey, config: { dialect: 'tandem' as const } };
  const tags = ['delivery'];

  app.get('/api/senders', {
    ...tandem, schema: { tags, summary: 'Senders (secrets hidden)', response: { 200: z.object({ senders: z.array(senderView) }) } },
  }, async (req) => ({ senders: (await deps.senders.list(req.workspaceId)).map(out) }));

  app.post('/api/senders', {
    ...tandem,
    schema: { tags, summary: 'Add a sender: SMTP or an HTTP provider for email, Twilio for SMS (the default of its channel unless isDefault is false)', body: senderInput, response: { 201: senderView } },
  }, async (req, reply) => reply.status(201).send(out(await deps.senders.create(req.workspaceId, req.body))));

  app.post('/api/senders/:id/resume', {
    ...tandem,
    schema: { tags, summary: 'Resume a paused sender (it pauses itself at 0.3% complaints or 5% hard bounces over 24 h)', params: z.object({ id: z.string().max(100) }), response: { 200: senderView } },
  }, async (req) => {
    const s = await deps.senders.get(req.workspaceId, req.params.id);
    if (!s) throw new AppError('sender.not_found', undefined, { field: 'id' });
    await deps.senders.setStatus(req.workspaceId, s.id, 'active', null);
    const after = (await deps.senders.list(req.workspaceId)).find((x) => x.id === s.id);
    if (!after) throw new AppError('sender.not_found', undefined, { field: 'id' });
    return out(after);
  });

  app.delete('/api/senders/:id', {
    ...tandem, schema: { tags, summary: 'Remove a sender', params: z.object({ id: z.string().max(100) }), response: { 204: z.null() } },
  }, async (req, reply) => {
    await deps.senders.remove(req.workspaceId, req.params.id);
    return reply.status(204).send(null);
  });

  // Raw bodies: every provider signs the exact bytes it sent.
  void app.register((plugin, _opts, done) => {
    const scope = plugin as unknown as TandemApp;
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 2 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/webhooks/inbound/:provider/:senderId', {
      config: { dialect: 'tandem' as const },
      schema: {
        tags, summary: 'Bounce, complaint and delivery notifications from a provider or a DSN relay; every provider authenticates (signature, Basic credentials or bearer token, see docs/bounces.md)',
        security: INBOUND_SECURITY,
        params: z.object({ provider: z.enum(INBOUND_PROVIDERS as [InboundProvider, ...InboundProvider[]]), senderId: z.string().max(100) }),
        response: { 200: z.object({ received: z.number().int(), applied: z.number().int(), duplicates: z.number().int() }) },
      },
    }, async (req) => {
      const found = /^snd_[0-9a-f]{20}$/.test(req.params.senderId) ? await deps.findSender(req.params.senderId) : undefined;
      if (!found) throw new AppError('sender.not_found', undefined, { field: 'senderId' });
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
      let parsed: InboundResult;
      try {
        parsed = await parse(req.params.provider, { headers, rawBody: raw }, found.sender, deps.clock);
      } catch (err) {
        if (!(err instanceof InboundError)) throw err;
        throw new AppError(err.code === 'payload' ? 'inbound.payload' : err.code === 'stale' ? 'inbound.stale' : 'inbound.signature', err.message.slice(0, 300), { field: 'body' });
      }
      // SNS asks to confirm the subscription by visiting its (verified, amazonaws.com) SubscribeURL.
      if (parsed.subscribeUrl) await safeFetch(parsed.subscribeUrl, { method: 'GET' }).catch(() => undefined);
      const result = await deps.inbound.apply(found.workspaceId, parsed.events);
      return { received: parsed.events.length, ...result };
    });
    done();
  });
}
