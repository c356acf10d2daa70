// The consent App API (Bearer app key): topics, a person's consent and ledger, the suppression list.
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { TandemApp } from '../../http/types.ts';
import type { PeopleQueryService } from '../people/index.ts';
import type { ConsentService } from './service.ts';
import { createPublicConsent } from './public.ts';
import { registerConsentPages } from './public-routes.ts';
import {
  CALLER_SOURCES, CHANNELS, SOURCES, SUPPRESSION_REASONS, TOPIC_CHANNELS, TOPIC_DEFAULTS, TOPIC_STATES,
  type ConsentChange, type ConsentState, type LedgerEntry, type Suppression, type Topic,
} from './types.ts';

const text = (max: number) => z.string().max(max).refine((s) => !s.includes('\0'), 'must not contain NUL characters');
const topicKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, 'lower-case letters, digits, "_" and "-", starting with a letter or digit');

const topicView = z.object({
  id: z.string(), key: z.string(), name: z.string(), description: z.string(),
  default: z.enum(TOPIC_DEFAULTS).describe('opt_out: subscribed unless they opt out; opt_in: only once they opt in'),
  channel: z.enum(TOPIC_CHANNELS), doubleOptIn: z.boolean(), createdAt: z.string(), updatedAt: z.string(),
});
const topicBody = z.object({
  key: topicKey, name: text(200).min(1), description: text(2000).optional(),
  default: z.enum(TOPIC_DEFAULTS), channel: z.enum(TOPIC_CHANNELS).default('email'),
  doubleOptIn: z.boolean().optional().describe('New subscriptions stay pending until the person confirms by email'),
}).strict();

const suppressionView = z.object({
  channel: z.enum(CHANNELS), address: z.string(), reason: z.enum(SUPPRESSION_REASONS), source: z.string().describe('Who put it there: api, bounce, complaint, admin, or person_deleted (a delete-and-suppress of the person with this email)'),
  createdAt: z.string(),
});
const stateView = z.object({
  personId: z.string(),
  topics: z.array(z.object({
    key: z.string(), name: z.string(), description: z.string(), channel: z.enum(TOPIC_CHANNELS), default: z.enum(TOPIC_DEFAULTS),
    state: z.enum(TOPIC_STATES), explicit: z.boolean().describe('false while the state comes from the topic default'),
    updatedAt: z.string().nullable(),
  })),
  unsubscribedAll: z.object({ email: z.boolean(), sms: z.boolean() }),
  suppressions: z.array(suppressionView).describe("Why nothing is sent to the person's email or phone: each entry that stops it (lift with DELETE /api/suppressions/:channel/:address)"),
});
const changeView = z.object({
  ledgerId: z.string(), kind: z.enum(['topic', 'global', 'suppression']), channel: z.enum(TOPIC_CHANNELS),
  address: z.string().nullable(), topic: z.string().nullable(), from: z.string(), to: z.string(),
  source: z.enum(SOURCES), at: z.string(),
});
const ledgerView = z.object({
  id: z.string(), personId: z.string().nullable(), kind: z.enum(['topic', 'global', 'suppression']), channel: z.enum(TOPIC_CHANNELS),
  address: z.string().nullable(), topic: z.string().nullable(), from: z.string(), to: z.string(), source: z.enum(SOURCES),
  ip: z.string().nullable(), userAgent: z.string().nullable(), messageId: z.string().nullable(), at: z.string(),
});

const topicOut = (t: Topic): z.infer<typeof topicView> => ({
  id: t.id, key: t.key, name: t.name, description: t.description, default: t.default, channel: t.channel,
  doubleOptIn: t.doubleOptIn, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString(),
});
const stateOut = (s: ConsentState, suppressions: Suppression[]): z.infer<typeof stateView> => ({
  ...s, topics: s.topics.map((t) => ({ ...t, updatedAt: t.updatedAt?.toISOString() ?? null })),
  suppressions: suppressions.map((x) => suppressionOut(x)),
});
const changeOut = (c: ConsentChange): z.infer<typeof changeView> => ({
  ledgerId: c.ledgerId, kind: c.kind, channel: c.channel, address: c.address, topic: c.topic, from: c.from, to: c.to,
  source: c.source, at: c.at.toISOString(),
});
const ledgerOut = (e: LedgerEntry): z.infer<typeof ledgerView> => ({ ...e, at: e.at.toISOString() });
const suppressionOut = (s: Suppression): z.infer<typeof suppressionView> => ({ ...s, createdAt: s.createdAt.toISOString() });

const LOOKUP_BY = ['id', 'userId', 'email', 'anonymousId'] as const;
const personParams = z.object({ id: text(1000).min(1).describe('Person uuid, or a userId / email / anonymousId with ?by=') });
const byQuery = z.object({ by: z.enum(LOOKUP_BY).default('id').describe('What :id is') });
const topicParams = z.object({ id: text(200) });

export function registerConsentRoutes(app: TandemApp, deps: { consent: ConsentService; peopleQuery: Pick<PeopleQueryService, 'resolveId'> }): void {
  const { consent, peopleQuery } = deps;
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const security = [{ appKey: [] }];
  const tags = ['consent'];

  registerConsentPages(app, createPublicConsent(consent));
  const fullState = async (ws: string, personId: string) => stateOut(await consent.state(ws, personId), await consent.suppressionsOf(ws, personId));

  app.get('/api/topics', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Every topic of the workspace, by key',
      querystring: z.object({ channel: z.enum(TOPIC_CHANNELS).optional().describe('Only topics of this channel') }),
      response: { 200: z.object({ topics: z.array(topicView) }) },
    },
  }, async (req) => ({
    topics: (await consent.listTopics(req.workspaceId)).filter((t) => !req.query.channel || t.channel === req.query.channel).map(topicOut),
  }));

  app.post('/api/topics', {
    preHandler, config,
    schema: { tags, security, summary: 'Create a topic', body: topicBody, response: { 201: topicView } },
  }, async (req, reply) => reply.status(201).send(topicOut(await consent.createTopic(req.workspaceId, req.body))));

  app.get('/api/topics/:id', {
    preHandler, config,
    schema: { tags, security, summary: 'One topic', params: topicParams, response: { 200: topicView } },
  }, async (req) => topicOut(await consent.getTopic(req.workspaceId, req.params.id)));

  app.put('/api/topics/:id', {
    preHandler, config,
    schema: { tags, security, summary: 'Replace a topic (people keep their states)', params: topicParams, body: topicBody, response: { 200: topicView } },
  }, async (req) => topicOut(await consent.updateTopic(req.workspaceId, req.params.id, req.body)));

  app.delete('/api/topics/:id', {
    preHandler, config,
    schema: { tags, security, summary: 'Delete a topic and every person\'s state in it', params: topicParams, response: { 204: z.null() } },
  }, async (req, reply) => {
    await consent.deleteTopic(req.workspaceId, req.params.id);
    return reply.status(204).send(null);
  });

  app.get('/api/people/:id/consent', {
    preHandler, config,
    schema: {
      tags, security, summary: "The person's state in every topic and their global unsubscribes",
      params: personParams, querystring: byQuery, response: { 200: stateView },
    },
  }, async (req) => fullState(req.workspaceId, await peopleQuery.resolveId(req.workspaceId, req.params.id, req.query.by)));

  app.put('/api/people/:id/consent', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Change consent (how a CRM pushes opt-outs); unchanged states are not recorded',
      params: personParams, querystring: byQuery,
      body: z.object({
        source: z.enum(CALLER_SOURCES).describe('Recorded in the ledger (`confirmation` is reserved for the double opt-in link)'),
        topics: z.record(topicKey, z.union([z.boolean(), z.enum(TOPIC_STATES)])).optional()
          .describe('topic key -> true (subscribed), false, or a state; a double opt-in topic asked to be subscribed becomes pending and the person is sent a confirmation link'),
        unsubscribedAll: z.object({ email: z.boolean().optional(), sms: z.boolean().optional() }).strict().optional(),
        ip: text(100).optional(), userAgent: text(1000).optional(), messageId: text(200).optional(),
      }).strict(),
      response: { 200: z.object({ changes: z.array(changeView).describe('What changed (one ledger entry each)'), consent: stateView }) },
    },
  }, async (req) => {
    const personId = await peopleQuery.resolveId(req.workspaceId, req.params.id, req.query.by);
    const { source, topics, unsubscribedAll, ip, userAgent, messageId } = req.body;
    const changes = await consent.setConsent(req.workspaceId, personId, { topics, unsubscribedAll }, { source, ip, userAgent, messageId });
    return { changes: changes.map(changeOut), consent: await fullState(req.workspaceId, personId) };
  });

  app.get('/api/people/:id/consent/ledger', {
    preHandler, config,
    schema: {
      tags, security, summary: "Every consent change of the person, newest first",
      params: personParams,
      querystring: byQuery.extend({
        limit: z.coerce.number().int().min(1).max(500).default(100),
        before: z.string().regex(/^\d{1,18}$/).optional().describe('`next` of the previous page'),
      }),
      response: { 200: z.object({ entries: z.array(ledgerView), next: z.string().nullable() }) },
    },
  }, async (req) => {
    const personId = await peopleQuery.resolveId(req.workspaceId, req.params.id, req.query.by);
    const rows = await consent.ledger(req.workspaceId, { personId, limit: req.query.limit + 1, before: req.query.before });
    const page = rows.slice(0, req.query.limit);
    return { entries: page.map(ledgerOut), next: rows.length > req.query.limit ? (page.at(-1)?.id ?? null) : null };
  });

  app.get('/api/suppressions', {
    preHandler, config,
    schema: {
      tags, security, summary: 'The suppression list, newest first',
      description: 'Every address nothing is sent to: bounces, complaints, manual entries, and the emails of people deleted and suppressed (reason deleted_person).',
      querystring: z.object({
        channel: z.enum(CHANNELS).optional(), reason: z.enum(SUPPRESSION_REASONS).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      }),
      response: { 200: z.object({ suppressions: z.array(suppressionView) }) },
    },
  }, async (req) => ({ suppressions: (await consent.suppressions(req.workspaceId, req.query)).map(suppressionOut) }));

  app.post('/api/suppressions', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Suppress an address: nothing is sent to it, transactional or not',
      description: '201 when added, 200 when it was already suppressed (the first reason is kept). A complaint also unsubscribes the person with that email from all email.',
      body: z.object({
        channel: z.enum(CHANNELS), address: text(320).min(1).describe('An email address, or an E.164 phone number for sms'),
        reason: z.enum(SUPPRESSION_REASONS).default('manual'),
      }).strict(),
      response: { 200: suppressionView, 201: suppressionView },
    },
  }, async (req, reply) => {
    const created = await consent.suppress(req.workspaceId, req.body.channel, req.body.address, req.body.reason, 'api');
    const found = await consent.suppression(req.workspaceId, req.body.channel, req.body.address);
    if (!found) throw new AppError('consent.suppression_not_found', undefined, { field: 'address' });
    return reply.status(created ? 201 : 200).send(suppressionOut(found));
  });

  app.delete('/api/suppressions/:channel/:address', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Take an address off the suppression list',
      description: "Lifts every entry for the address, a deleted-and-suppressed person's email included (their user ids stay suppressed).",
      params: z.object({ channel: z.enum(CHANNELS), address: text(320).min(1) }), response: { 204: z.null() },
    },
  }, async (req, reply) => {
    if (!(await consent.unsuppress(req.workspaceId, req.params.channel, req.params.address, { source: 'api' }))) {
      throw new AppError('consent.suppression_not_found', undefined, { field: 'address' });
    }
    return reply.status(204).send(null);
  });
}
