// GET /api/event-types and /api/event-types/:type/:name: the catalog with live volumes.
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import { decodeTuple, encodeTuple } from '../../db/keyset.ts';
import { PAGE_DEFAULT, PAGE_MAX, type CatalogService, type EventType } from './service.ts';

const eventKind = z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']);
// PostgreSQL text cannot hold NUL, so no stored name has one: refuse it here rather than fail in SQL.
const eventName = z.string().min(1).max(500).refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

const propertyView = z.object({
  path: z.string().describe('Dotted path into the properties (identify: traits), up to 3 levels'),
  type: z.string().describe('string | number | boolean | null | array | object | datetime: the latest non-null type'),
  seenTypes: z.array(z.string()),
  firstSeen: z.string(),
  lastSeen: z.string().describe('Accurate to about a minute'),
});

const changeView = z.object({ path: z.string(), from: z.string(), to: z.string(), changedAt: z.string() });

const eventTypeView = z.object({
  type: eventKind,
  name: z.string().describe('track/page/screen: the event name ("(unnamed)" if none); identify/group/alias: the type'),
  firstSeen: z.string(),
  lastSeen: z.string().describe('Accurate to about a minute'),
  count24h: z.number().int(),
  count7d: z.number().int(),
  sample: z.record(z.string(), z.unknown()).describe('Properties of the latest event at the last catalog write'),
  properties: z.array(propertyView),
  typeChanges: z.array(changeView).describe('The latest 20 property type changes, newest first'),
});

const warningView = z.object({
  code: z.enum(['catalog.event_types_full', 'catalog.properties_full']),
  message: z.string(), type: z.string().optional(), name: z.string().optional(),
});

/** The cursor is the last (type, name) of a page, opaque to clients. */
function encodeCursor(k: { type: string; name: string }): string {
  return encodeTuple([k.type, k.name]);
}

function decodeCursor(cursor: string): { type: string; name: string } {
  const [type = '', name = ''] = decodeTuple(cursor, { length: 2, field: 'querystring.cursor', maxChars: 2000 });
  return { type, name };
}

function view(t: EventType): z.infer<typeof eventTypeView> {
  return {
    type: t.type, name: t.name, firstSeen: t.firstSeen.toISOString(), lastSeen: t.lastSeen.toISOString(),
    count24h: t.count24h, count7d: t.count7d, sample: t.sample,
    properties: t.properties.map((p) => ({
      path: p.path, type: p.type, seenTypes: p.seenTypes, firstSeen: p.firstSeen.toISOString(), lastSeen: p.lastSeen.toISOString(),
    })),
    typeChanges: t.typeChanges.map((c) => ({ path: c.path, from: c.from, to: c.to, changedAt: c.changedAt.toISOString() })),
  };
}

export function registerCatalogRoutes(app: TandemApp, catalog: CatalogService): void {
  const tags = ['events'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };

  app.get('/api/event-types', {
    preHandler, config,
    schema: {
      tags, summary: 'The event catalog: every event type seen, its properties, volume and type changes (paged)',
      querystring: z.object({
        type: eventKind.optional(), name: eventName.optional(),
        limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(PAGE_DEFAULT).describe(`Event types per page (default ${PAGE_DEFAULT}, at most ${PAGE_MAX})`),
        cursor: z.string().max(2000).optional().describe('nextCursor of the previous page'),
      }),
      response: {
        200: z.object({
          eventTypes: z.array(eventTypeView).describe('In (type, name) order'),
          nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
          warnings: z.array(warningView).describe('A cap of the catalog was reached: events are stored, but not catalogued'),
        }),
      },
    },
  }, async (req) => {
    const { type, name, limit, cursor } = req.query;
    const page = await catalog.page(req.workspaceId, { type, name, after: cursor !== undefined ? decodeCursor(cursor) : undefined }, limit);
    return { eventTypes: page.eventTypes.map(view), nextCursor: page.next ? encodeCursor(page.next) : null, warnings: page.warnings };
  });

  app.get('/api/event-types/:type/:name', {
    preHandler, config,
    schema: {
      tags, summary: 'One event type of the catalog',
      params: z.object({ type: eventKind, name: eventName }),
      response: { 200: eventTypeView },
    },
  }, async (req) => view(await catalog.get(req.workspaceId, req.params.type, req.params.name)));
}
