// The segments App API (Bearer app key): define, preview and explain segments; members, history,
// exports; manual lists.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { PeopleQueryService } from '../people/index.ts';
import { exportMembers } from './export.ts';
import type { SegmentsService } from './service.ts';
import type { Segment } from './types.ts';

const text = (max: number) => z.string().max(max).refine((s) => !s.includes('\0'), 'must not contain NUL characters');
const definition = z.unknown().describe('A segment definition (JSON condition tree); see docs/segments.md');
const LOOKUP_BY = ['id', 'userId', 'email', 'anonymousId'] as const;

const segmentView = z.object({
  id: z.string(), key: z.string(), name: z.string(), description: z.string(), kind: z.enum(['dynamic', 'manual']),
  definition: z.unknown().nullable(), status: z.enum(['building', 'ready']).describe('building: the first evaluation has not finished'),
  timeBased: z.boolean().describe('re-evaluated on a schedule as time windows move'), version: z.number(),
  memberCount: z.number().optional(), evaluatedAt: z.string().nullable(), createdAt: z.string(), updatedAt: z.string(),
  dependsOn: z.object({ events: z.array(z.string()), segments: z.array(z.string()) }),
});
const segmentBody = z.object({
  key: text(100).describe('Lower-case letters, digits, "_" and "-"; unique in the workspace'),
  name: text(200).min(1), description: text(2000).optional(),
  kind: z.enum(['dynamic', 'manual']).optional().describe('Default: dynamic when a definition is given, else manual'),
  definition: definition.optional(),
}).strict();
const warningView = z.object({ code: z.string(), event: z.string(), path: z.string().optional(), message: z.string() });
const personBrief = z.object({ id: z.string(), externalId: z.string().nullable(), email: z.string().nullable(), attributes: z.record(z.string(), z.unknown()) });
type ExplainOut = { path: string; type: string; label: string; result: boolean; found?: string | undefined; children?: ExplainOut[] | undefined };
// Recursive: named, so the OpenAPI document can refer to it (components.schemas.SegmentExplainNode).
const explainNode: z.ZodType<ExplainOut> = z.lazy(() => z.object({
  path: z.string(), type: z.string(), label: z.string(), result: z.boolean(), found: z.string().optional(), children: z.array(explainNode).optional(),
})).meta({ id: 'SegmentExplainNode' });
const explainView = z.object({
  member: z.boolean().describe('Whether the person matches the definition now'),
  stored: z.boolean().nullable().describe('Whether stored membership says so (null for a draft definition)'),
  tree: explainNode,
});
const idParams = z.object({ id: text(200) });
const page = { limit: z.coerce.number().int().min(1).max(1000).default(100) };

const out = (s: Segment & { memberCount?: number }): z.infer<typeof segmentView> => ({
  id: s.id, key: s.key, name: s.name, description: s.description, kind: s.kind, definition: s.definition, status: s.status,
  timeBased: s.timeBased, version: s.version, ...(s.memberCount !== undefined ? { memberCount: s.memberCount } : {}),
  evaluatedAt: s.evaluatedAt?.toISOString() ?? null, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString(),
  dependsOn: { events: s.deps.events, segments: s.deps.segments },
});

export function registerSegmentsRoutes(app: TandemApp, deps: { segments: SegmentsService; peopleQuery: Pick<PeopleQueryService, 'resolveId'> }): void {
  const { segments, peopleQuery } = deps;
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const security = [{ appKey: [] }];
  const tags = ['segments'];

  app.get('/api/segments', {
    preHandler, config, schema: { tags, security, summary: 'Every segment and list, with member counts', response: { 200: z.object({ segments: z.array(segmentView) }) } },
  }, async (req) => ({ segments: (await segments.list(req.workspaceId)).map(out) }));

  app.post('/api/segments', {
    preHandler, config, schema: { tags, security, summary: 'Create a dynamic segment (with a definition) or a manual list', body: segmentBody, response: { 201: segmentView } },
  }, async (req, reply) => reply.status(201).send(out(await segments.create(req.workspaceId, req.body))));

  app.post('/api/segments/preview', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Count and sample the people a draft definition matches, with catalog warnings',
      body: z.object({ definition, sample: z.number().int().min(0).max(100).default(10) }).strict(),
      response: { 200: z.object({ count: z.number(), sample: z.array(personBrief), tookMs: z.number(), warnings: z.array(warningView) }) },
    },
  }, async (req) => {
    const r = await segments.preview(req.workspaceId, req.body.definition, { sample: req.body.sample });
    return { ...r, sample: r.sample.map((p) => ({ id: p.id, externalId: p.external_id, email: p.email, attributes: p.attributes })) };
  });

  app.post('/api/segments/explain', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Why a person is (not) matched by a draft definition, condition by condition',
      body: z.object({ definition, person: text(1000).min(1), by: z.enum(LOOKUP_BY).default('id') }).strict(),
      response: { 200: explainView },
    },
  }, async (req) => {
    const pid = await peopleQuery.resolveId(req.workspaceId, req.body.person, req.body.by);
    return segments.explain(req.workspaceId, { definition: req.body.definition }, pid);
  });

  app.get('/api/segments/:id', {
    preHandler, config, schema: { tags, security, summary: 'One segment (by id or key)', params: idParams, response: { 200: segmentView } },
  }, async (req) => out(await segments.get(req.workspaceId, req.params.id)));

  app.put('/api/segments/:id', {
    preHandler, config,
    schema: { tags, security, summary: 'Replace a segment; a changed definition rebuilds its membership', params: idParams, body: segmentBody, response: { 200: segmentView } },
  }, async (req) => out(await segments.update(req.workspaceId, req.params.id, req.body)));

  app.delete('/api/segments/:id', {
    preHandler, config, schema: { tags, security, summary: 'Delete a segment and its membership', params: idParams, response: { 204: z.null() } },
  }, async (req, reply) => {
    await segments.remove(req.workspaceId, req.params.id);
    return reply.status(204).send(null);
  });

  app.get('/api/segments/:id/explain', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Why a person is (not) in the segment, condition by condition', params: idParams,
      querystring: z.object({ person: text(1000).min(1), by: z.enum(LOOKUP_BY).default('id') }), response: { 200: explainView },
    },
  }, async (req) => {
    const pid = await peopleQuery.resolveId(req.workspaceId, req.query.person, req.query.by);
    return segments.explain(req.workspaceId, { segment: req.params.id }, pid);
  });

  app.get('/api/segments/:id/warnings', {
    preHandler, config,
    schema: { tags, security, summary: 'Events and properties the segment reads that stopped arriving or changed type', params: idParams, response: { 200: z.object({ warnings: z.array(warningView) }) } },
  }, async (req) => ({ warnings: await segments.warnings(req.workspaceId, req.params.id) }));

  app.get('/api/segments/:id/members', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Members, in person-id order', params: idParams,
      querystring: z.object({ ...page, after: z.string().uuid().optional().describe('The last person id of the previous page') }),
      response: { 200: z.object({ members: z.array(personBrief.extend({ phone: z.string().nullable(), enteredAt: z.string() })), nextAfter: z.string().nullable() }) },
    },
  }, async (req) => {
    const s = await segments.get(req.workspaceId, req.params.id);
    const rows = await segments.members(req.workspaceId, s.id, { after: req.query.after, limit: req.query.limit });
    return {
      members: rows.map((r) => ({ id: r.id, externalId: r.external_id, email: r.email, phone: r.phone, attributes: r.attributes, enteredAt: r.entered_at.toISOString() })),
      nextAfter: rows.length === req.query.limit ? rows[rows.length - 1]!.id : null,
    };
  });

  app.get('/api/segments/:id/changes', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Entries and exits, newest first (the segment events journeys trigger on)', params: idParams,
      querystring: z.object({ ...page, before: z.string().regex(/^\d+$/).optional() }),
      response: { 200: z.object({ changes: z.array(z.object({ id: z.string(), personId: z.string(), change: z.enum(['entered', 'exited']), reason: z.string(), at: z.string() })), nextBefore: z.string().nullable() }) },
    },
  }, async (req) => {
    const s = await segments.get(req.workspaceId, req.params.id);
    const rows = await segments.changes(req.workspaceId, s.id, { before: req.query.before, limit: req.query.limit });
    return {
      changes: rows.map((r) => ({ id: String(r.id), personId: r.person_id, change: r.change, reason: r.reason, at: r.at.toISOString() })),
      nextBefore: rows.length === req.query.limit ? String(rows[rows.length - 1]!.id) : null,
    };
  });

  app.get('/api/segments/:id/export', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Every member as CSV (formula-safe) or NDJSON, streamed', params: idParams,
      querystring: z.object({
        format: z.enum(['csv', 'ndjson']).default('csv'),
        attributes: text(2000).optional().describe('CSV: comma-separated attribute names to add as columns'),
      }),
      response: { 200: z.string().describe('CSV (header: person_id,id,email,phone,entered_at, then the attributes asked for) or NDJSON, one member per line') },
    },
  }, async (req, reply) => {
    const s = await segments.get(req.workspaceId, req.params.id);
    const attrs = (req.query.attributes ?? '').split(',').map((a) => a.trim()).filter(Boolean);
    // A stream is sent as is (no serialisation); the schema documents the text it produces.
    const body = Readable.from(exportMembers(segments, req.workspaceId, s.id, req.query.format, attrs)) as unknown as string;
    return reply.type(req.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('content-disposition', `attachment; filename="${s.key}.${req.query.format}"`).send(body);
  });

  app.post('/api/segments/:id/members', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Add people to and remove people from a manual list', params: idParams,
      body: z.object({
        add: z.array(text(1000).min(1)).max(1000).optional(), remove: z.array(text(1000).min(1)).max(1000).optional(),
        by: z.enum(LOOKUP_BY).default('id').describe('What the values of add/remove are'),
      }).strict(),
      response: { 200: z.object({ added: z.number(), removed: z.number() }) },
    },
  }, async (req) => {
    const ids = async (refs: string[] | undefined, field: string) => Promise.all((refs ?? []).map(async (r, i) => {
      try {
        return await peopleQuery.resolveId(req.workspaceId, r, req.body.by);
      } catch (err) {
        if (err && typeof err === 'object' && 'details' in err) (err as { details: Record<string, unknown> }).details.field = `${field}[${i}]`;
        throw err;
      }
    }));
    return segments.editList(req.workspaceId, req.params.id, { add: await ids(req.body.add, 'add'), remove: await ids(req.body.remove, 'remove') });
  });

  app.post('/api/segments/:id/rebuild', {
    preHandler, config,
    schema: { tags, security, summary: 'Evaluate a dynamic segment for everyone now', params: idParams, response: { 200: z.object({ entered: z.number(), exited: z.number(), ms: z.number() }) } },
  }, async (req) => segments.rebuild(req.workspaceId, req.params.id));

  app.get('/api/people/:id/segments', {
    preHandler, config,
    schema: {
      tags, security, summary: 'The segments and lists the person is in', params: z.object({ id: text(1000).min(1) }),
      querystring: z.object({ by: z.enum(LOOKUP_BY).default('id') }),
      response: { 200: z.object({ segments: z.array(z.object({ id: z.string(), key: z.string(), name: z.string(), kind: z.enum(['dynamic', 'manual']), enteredAt: z.string() })) }) },
    },
  }, async (req) => {
    const pid = await peopleQuery.resolveId(req.workspaceId, req.params.id, req.query.by);
    return { segments: (await segments.ofPerson(req.workspaceId, pid)).map((s) => ({ id: s.id, key: s.key, name: s.name, kind: s.kind, enteredAt: s.entered_at.toISOString() })) };
  });
}
