// GET /api/dev-inbox: what would have been sent while no sender is configured.
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { DevInboxService } from './service.ts';
import type { DevInboxMessage } from './types.ts';

const summary = z.object({
  id: z.string(), channel: z.string(), source: z.string(), to: z.string(), from: z.string().nullable(),
  subject: z.string().nullable(), createdAt: z.string(), meta: z.record(z.string(), z.unknown()),
});
const full = summary.extend({ html: z.string().nullable(), text: z.string().nullable() });

function summaryOut(m: DevInboxMessage): z.infer<typeof summary> {
  return { id: m.id, channel: m.channel, source: m.source, to: m.to, from: m.from, subject: m.subject, createdAt: m.createdAt.toISOString(), meta: m.meta };
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
    return { messages: page.messages.map(summaryOut), next: page.next };
  });

  app.get('/api/dev-inbox/:id', {
    preHandler, config,
    schema: { tags, summary: 'One caught message with its HTML and text', params: z.object({ id: z.string().max(100) }), response: { 200: full } },
  }, async (req) => {
    const m = await inbox.get(req.workspaceId, req.params.id);
    return { ...summaryOut(m), html: m.html, text: m.text };
  });
}
