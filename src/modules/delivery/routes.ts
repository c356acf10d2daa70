// HTTP: Customer.io's transactional App API (/v1/send/email, /v1/send/sms), and under /api the
// messages (one per send, with their timeline) and sending domains.
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { TandemApp } from '../../http/types.ts';
import type { DomainService } from './domains.ts';
import type { DeliveryService } from './service.ts';
import type { TransactionalInput, TransactionalService } from './transactional.ts';
import type { MessageRow } from './types.ts';

const idKey = z.string().min(1).max(200).optional().describe('Same key and body: the same answer for 24 h, sent once');
const messageData = z.record(z.string().max(200), z.unknown());
const identifiers = z.object({
  id: z.union([z.string().min(1).max(500), z.number()]).optional(),
  email: z.string().min(1).max(320).optional(),
  cio_id: z.string().min(1).max(100).optional(),
}).strict().refine((i) => Object.keys(i).length === 1, 'give exactly one of id, email or cio_id');
const templateRef = z.union([z.string().min(1).max(200), z.number().int()]).describe('A Tandem template id (tpl_…) or name');
const answer = z.object({ delivery_id: z.string(), queued_at: z.number().int() });

const emailBody = z.object({
  transactional_message_id: templateRef.optional(),
  to: z.string().min(3).max(320).optional().describe('Default: the identified person\'s email'),
  identifiers: identifiers.optional(),
  message_data: messageData.optional().describe('Liquid data: {{ trigger.<key> }} (also {{ event.<key> }})'),
  from: z.string().max(400).optional(), subject: z.string().max(1000).optional(),
  body: z.string().max(500_000).optional(), plaintext_body: z.string().max(500_000).optional(),
  preheader: z.string().max(1000).optional(), reply_to: z.string().max(320).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(2000)).optional(),
  disable_message_retention: z.boolean().optional(),
  send_to_unsubscribed: z.boolean().optional(),
  tracked: z.boolean().optional().describe('Accepted for compatibility'),
  // Fields customerio-node always sends; refused when they ask for something Tandem does not do yet.
  body_plain: z.string().max(500_000).optional().describe('Customer.io\'s newer name of plaintext_body'),
  attachments: z.record(z.string(), z.string()).optional().refine((a) => !a || Object.keys(a).length === 0, 'attachments are not supported yet'),
  bcc: z.string().max(0, 'bcc is not supported').optional(),
  fake_bcc: z.boolean().optional().refine((v) => v !== true, 'fake_bcc is not supported'),
  body_amp: z.string().max(0, 'AMP bodies are not supported').optional(),
  queue_draft: z.boolean().optional().refine((v) => v !== true, 'drafts are not supported: send, or use a test send'),
  send_at: z.number().int().positive().optional().describe('Unix seconds: send no earlier than this'),
  disable_css_preprocessing: z.boolean().optional().describe('Accepted; CSS is inlined by the template\'s MJML compile'),
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/).optional().describe('The translation to use'),
}).strict();

const smsBody = z.object({
  transactional_message_id: templateRef.optional(),
  to: z.string().min(3).max(40).optional().describe('Default: the identified person\'s phone'),
  identifiers: identifiers.optional(),
  message_data: messageData.optional(),
  from: z.string().max(40).optional(), body: z.string().max(10_000).optional(),
  disable_message_retention: z.boolean().optional(),
  send_to_unsubscribed: z.boolean().optional(),
  send_at: z.number().int().positive().optional().describe('Unix seconds: send no earlier than this'),
}).strict();

const eventView = z.object({ type: z.string(), at: z.string(), data: z.record(z.string(), z.unknown()) });
const messageView = z.object({
  id: z.string(), channel: z.string(), source: z.string(), status: z.string(), statusReason: z.string().nullable(),
  to: z.string(), personId: z.string().nullable(), templateId: z.string().nullable(), templateVersion: z.number().int().nullable(),
  attempts: z.number().int(), provider: z.string().nullable(), providerMessageId: z.string().nullable(),
  fromAddress: z.string().nullable(), subject: z.string().nullable(), createdAt: z.string(), sentAt: z.string().nullable(),
});
const domainView = z.object({
  domain: z.string(),
  dkim: z.object({ selector: z.string(), name: z.string(), type: z.literal('TXT'), value: z.string() }),
  spf: z.object({ name: z.string(), type: z.literal('TXT'), value: z.string(), note: z.string() }),
  dmarc: z.object({ name: z.string(), type: z.literal('TXT'), value: z.string(), note: z.string() }),
});

type MessageOut = z.infer<typeof messageView>;
function messageOut(m: MessageRow): MessageOut {
  return {
    id: m.id, channel: m.channel, source: m.source, status: m.status, statusReason: m.statusReason, to: m.to, personId: m.personId,
    templateId: m.templateId, templateVersion: m.templateVersion, attempts: m.attempts, provider: m.provider,
    providerMessageId: m.providerMessageId, fromAddress: m.fromAddress, subject: m.subject,
    createdAt: m.createdAt.toISOString(), sentAt: m.sentAt?.toISOString() ?? null,
  };
}

export function registerDeliveryRoutes(app: TandemApp, deps: { delivery: DeliveryService; transactional: TransactionalService; domains: DomainService }): void {
  const cio = { preHandler: app.auth.appKey, config: { dialect: 'customerio' as const } };
  const tandem = { preHandler: app.auth.appKey, config: { dialect: 'tandem' as const } };
  const security = [{ appKey: [] }];

  for (const channel of ['email', 'sms'] as const) {
    app.post(`/v1/send/${channel}`, {
      ...cio,
      schema: {
        tags: ['customerio'], security,
        summary: channel === 'email' ? 'Send a transactional email (Customer.io App API)' : 'Send a transactional SMS (Customer.io App API)',
        headers: z.object({ 'idempotency-key': idKey }),
        body: channel === 'email' ? emailBody : smsBody,
        response: { 200: answer },
      },
    }, async (req) => {
      const { body_plain: bodyPlain, attachments: _a, bcc: _b, fake_bcc: _f, body_amp: _amp, queue_draft: _q, disable_css_preprocessing: _c, tracked: _t, ...rest } =
        req.body as Record<string, unknown> & { body_plain?: string };
      const input = { ...rest, ...(bodyPlain !== undefined && rest['plaintext_body'] === undefined ? { plaintext_body: bodyPlain } : {}), channel } as TransactionalInput;
      return deps.transactional.send(req.workspaceId, input, req.headers['idempotency-key']);
    });
  }

  app.get('/api/messages', {
    ...tandem,
    schema: {
      tags: ['delivery'], summary: 'Messages (one per send), newest first',
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        personId: z.uuid().optional(),
        cursor: z.string().max(1000).optional().describe('nextCursor from the previous page'),
        before: z.string().max(100).optional().describe('Deprecated: a message id; the page starts after that message'),
      }),
      response: { 200: z.object({ messages: z.array(messageView), nextCursor: z.string().nullable().describe('null on the last page') }) },
    },
  }, async (req) => {
    const { messages, nextCursor } = await deps.delivery.list(req.workspaceId, req.query);
    return { messages: messages.map(messageOut), nextCursor };
  });

  app.get('/api/messages/:id', {
    ...tandem,
    schema: {
      tags: ['delivery'], summary: 'One message with its status timeline and (unless retention was disabled) its content',
      params: z.object({ id: z.string().max(100) }),
      response: { 200: messageView.extend({ html: z.string().nullable(), text: z.string().nullable(), events: z.array(eventView) }) },
    },
  }, async (req) => {
    const m = await deps.delivery.message(req.workspaceId, req.params.id);
    if (!m) throw new AppError('message.not_found', undefined, { field: 'id' });
    return { ...messageOut(m), html: m.html, text: m.text, events: m.events.map((e) => ({ type: e.type, at: e.at.toISOString(), data: e.data })) };
  });

  app.post('/api/domains', {
    ...tandem,
    schema: {
      tags: ['delivery'], summary: 'Add a sending domain: a DKIM key pair, and the DNS records to publish',
      body: z.object({ domain: z.string().min(3).max(253) }).strict(),
      response: { 201: domainView },
    },
  }, async (req, reply) => reply.status(201).send(await deps.domains.add(req.workspaceId, req.body.domain)));

  app.get('/api/domains', {
    ...tandem,
    schema: { tags: ['delivery'], summary: 'Sending domains and their DNS records', response: { 200: z.object({ domains: z.array(domainView) }) } },
  }, async (req) => ({ domains: await deps.domains.list(req.workspaceId) }));

  app.delete('/api/domains/:domain', {
    ...tandem,
    schema: { tags: ['delivery'], summary: 'Remove a sending domain (email from it is no longer DKIM-signed)', params: z.object({ domain: z.string().max(253) }), response: { 204: z.null() } },
  }, async (req, reply) => {
    await deps.domains.remove(req.workspaceId, req.params.domain);
    return reply.status(204).send(null);
  });
}
