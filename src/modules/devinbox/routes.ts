// GET /api/dev-inbox: what would have been sent while no sender is configured; GET /dev-inbox/<token>
// (the htmlUrl of a message): its HTML in a browser, sandboxed as the view-in-browser page is.
import { z } from 'zod';
import { PUBLIC } from '../../http/openapi.ts';
import type { TandemApp } from '../../http/types.ts';
import { PAGE_HEADERS, VIEW_HEADERS, badLinkPage } from '../tracking/index.ts';
import type { DevInboxService } from './service.ts';
import type { DevInboxMessage } from './types.ts';

const summary = z.object({
  id: z.string(), channel: z.string(), source: z.string(), to: z.string(), from: z.string().nullable(),
  subject: z.string().nullable(), createdAt: z.string(), meta: z.record(z.string(), z.unknown()),
  htmlUrl: z.string().nullable().describe('Opens the HTML in a browser for a day, no key needed (sandboxed: no script runs); null without HTML'),
});
const full = summary.extend({ html: z.string().nullable(), text: z.string().nullable() });

function summaryOut(m: DevInboxMessage, htmlUrl: string | null): z.infer<typeof summary> {
  return { id: m.id, channel: m.channel, source: m.source, to: m.to, from: m.from, subject: m.subject, createdAt: m.createdAt.toISOString(), meta: m.meta, htmlUrl };
}

export function registerDevInboxRoutes(app: TandemApp, inbox: DevInboxService): void {
  const tags = ['dev-inbox'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };

  app.get('/api/dev-inbox', {
    preHandler, config,
    schema: {
      tags, summary: 'Messages caught by the dev inbox, newest first',
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(200).optional().describe('The `next` of the previous page'),
        to: z.string().max(320).optional().describe('Only messages to this address'),
      }),
      response: { 200: z.object({ messages: z.array(summary), next: z.string().nullable() }) },
    },
  }, async (req) => {
    const page = await inbox.list(req.workspaceId, req.query);
    const messages = await Promise.all(page.messages.map(async (m) => summaryOut(m, await inbox.htmlUrl(req.workspaceId, m))));
    return { messages, next: page.next };
  });

  app.get('/api/dev-inbox/:id', {
    preHandler, config,
    schema: { tags, summary: 'One caught message with its HTML and text', params: z.object({ id: z.string().max(100) }), response: { 200: full } },
  }, async (req) => {
    const m = await inbox.get(req.workspaceId, req.params.id);
    return { ...summaryOut(m, await inbox.htmlUrl(req.workspaceId, m)), html: m.html, text: m.text };
  });

  app.get('/dev-inbox/:token', {
    config,
    schema: {
      tags: ['dev-inbox'], security: PUBLIC, summary: 'A dev-inbox message as HTML, by its signed link (htmlUrl), sandboxed',
      params: z.object({ token: z.string().max(2048) }), produces: ['text/html'], response: { 200: z.string().describe('The message\'s HTML'), 404: z.string().describe('A forged or expired link: a page') },
    },
  }, async (req, reply) => {
    const html = await inbox.html(req.params.token);
    if (html === null) return reply.status(404).headers(PAGE_HEADERS).send(badLinkPage());
    return reply.status(200).headers(VIEW_HEADERS).send(html);
  });
}
