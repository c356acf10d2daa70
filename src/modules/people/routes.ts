// The people REST API (Bearer app key): list and search, one person, timeline, objects, export,
// delete-and-suppress. Parse -> call the service -> respond; every call is scoped to the key's workspace.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { PeopleQueryService } from './query-service.ts';
import type { PeopleService } from './service.ts';
import { LOOKUP_BY, MAX_LIMIT } from './views.ts';

const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

/** PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database. */
const text = (max: number) => z.string().max(max).refine((s) => !s.includes('\0'), 'must not contain NUL characters');

const json = z.record(z.string(), z.unknown());
const limit = z.coerce.number().int().min(1).max(MAX_LIMIT).default(50)
  .describe(`Page size, 1-${MAX_LIMIT}`);
const cursor = text(200).optional().describe('nextCursor from the previous page');

const personView = z.object({
  id: z.string().describe('Tandem person id (uuid)'),
  userId: z.string().nullable().describe('External id (Segment userId / Customer.io id)'),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  identified: z.boolean().describe('false for anonymous visitors'),
  attributes: json,
  timezone: z.string().nullable(),
  locale: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const personDetail = personView.extend({
  identifiers: z.object({ userIds: z.array(z.string()), anonymousIds: z.array(z.string()) }),
});
const eventView = z.object({
  id: z.string(), type: z.enum(EVENT_TYPES), name: z.string().nullable(), properties: json, context: json,
  userId: z.string().nullable(), anonymousId: z.string().nullable(), messageId: z.string().nullable(),
  source: z.string(), timestamp: z.string(), receivedAt: z.string(),
});
const relatedObject = z.object({
  type: z.string(), id: z.string(), attributes: json, relationshipAttributes: json,
  createdAt: z.string(), updatedAt: z.string(), relatedAt: z.string(),
});
const exportView = z.object({
  exportedAt: z.string(),
  person: personDetail,
  identifiers: z.array(z.object({ kind: z.enum(['user', 'anonymous']), value: z.string(), createdAt: z.string() })),
  devices: z.array(z.object({
    deviceId: z.string(), platform: z.string().nullable(), attributes: json, lastUsed: z.string().nullable(),
    createdAt: z.string(), updatedAt: z.string(),
  })),
  objects: z.array(relatedObject),
  suppressions: z.array(z.object({ kind: z.enum(['user', 'anonymous', 'email']), value: z.string(), reason: z.string(), createdAt: z.string() })),
  events: z.array(eventView).describe('Every event, newest first'),
});

const personParams = z.object({ id: text(1000).min(1).describe('Person uuid, or a userId / email / anonymousId with ?by=') });
const byQuery = z.object({ by: z.enum(LOOKUP_BY).default('id').describe('What :id is') });

export function registerPeopleRoutes(
  app: TandemApp,
  deps: { query: PeopleQueryService; people: Pick<PeopleService, 'deleteAndSuppress'> },
): void {
  const { query, people } = deps;
  const tags = ['people'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const security = [{ appKey: [] }];

  app.get('/api/people', {
    preHandler, config,
    schema: {
      tags, security, summary: 'List and search people, newest first',
      querystring: z.object({
        limit, cursor,
        q: text(500).optional().describe('Case-insensitive match on email, userId, phone or attribute values; exact anonymous id'),
        email: text(1000).optional(),
        userId: text(1000).optional(),
        identified: z.enum(['true', 'false']).optional().describe('false: anonymous visitors only'),
      }),
      response: { 200: z.object({ people: z.array(personView), nextCursor: z.string().nullable() }) },
    },
  }, async (req) => {
    const { identified, ...rest } = req.query;
    return query.list(req.workspaceId, { ...rest, identified: identified === undefined ? undefined : identified === 'true' });
  });

  app.get('/api/people/:id', {
    preHandler, config,
    schema: {
      tags, security, summary: 'One person with all their identifiers',
      params: personParams, querystring: byQuery, response: { 200: personDetail },
    },
  }, async (req) => query.get(req.workspaceId, req.params.id, req.query.by));

  app.get('/api/people/:id/events', {
    preHandler, config,
    schema: {
      tags, security, summary: "The person's event timeline, newest first",
      params: personParams,
      querystring: byQuery.extend({ limit, cursor, type: z.enum(EVENT_TYPES).optional(), name: text(1000).optional() }),
      response: { 200: z.object({ events: z.array(eventView), nextCursor: z.string().nullable() }) },
    },
  }, async (req) => {
    const { by, ...input } = req.query;
    return query.timeline(req.workspaceId, req.params.id, by, input);
  });

  app.get('/api/people/:id/objects', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Objects (groups, accounts) the person is related to',
      params: personParams, querystring: byQuery,
      response: { 200: z.object({ objects: z.array(relatedObject) }) },
    },
  }, async (req) => ({ objects: await query.objectsOf(req.workspaceId, req.params.id, req.query.by) }));

  app.get('/api/people/:id/export', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Everything stored about the person, as one JSON document',
      params: personParams, querystring: byQuery, response: { 200: exportView },
    },
  }, async (req, reply) => {
    const chunks = await query.export(req.workspaceId, req.params.id, req.query.by);
    // A stream is sent as is (no response serialisation), so the events need not fit in memory;
    // the schema above documents the document it produces.
    const body = Readable.from(chunks) as unknown as z.infer<typeof exportView>;
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.delete('/api/people/:id', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Delete the person and all their data, and suppress their identifiers',
      params: personParams, querystring: byQuery,
      response: { 204: z.null().describe('Deleted and suppressed') },
    },
  }, async (req, reply) => {
    const id = await query.resolveId(req.workspaceId, req.params.id, req.query.by);
    await people.deleteAndSuppress(req.workspaceId, { id });
    return reply.status(204).send(null);
  });

  app.get('/api/objects/:type/:id', {
    preHandler, config,
    schema: {
      tags, security, summary: 'An object (group, account) and how many people relate to it',
      params: z.object({ type: text(200).min(1), id: text(1000).min(1) }),
      response: {
        200: z.object({
          type: z.string(), id: z.string(), attributes: json, relationshipCount: z.number().int(),
          createdAt: z.string(), updatedAt: z.string(),
        }),
      },
    },
  }, async (req) => query.object(req.workspaceId, req.params.type, req.params.id));
}
