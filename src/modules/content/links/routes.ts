// /api/content/templates/:id/link-check: queue a check (202) and read the last one.
import { z } from 'zod';
import type { TandemApp } from '../../../http/types.ts';
import type { LinkCheckService } from './service.ts';

const resultView = z.object({
  url: z.string(),
  kind: z.enum(['link', 'image']),
  status: z.enum(['ok', 'broken', 'blocked', 'skipped'])
    .describe('blocked: a private or local address Tandem may not connect to; skipped: hosted by Tandem or over the URL limit'),
  httpStatus: z.number().int().nullable().describe('The final HTTP status, after redirects'),
  error: z.string().nullable(),
});

const idParams = z.object({ id: z.string().max(200) });

export function registerLinkCheckRoutes(app: TandemApp, linkChecks: LinkCheckService): void {
  const tags = ['content'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const path = '/api/content/templates/:id/link-check';

  app.post(path, {
    preHandler, config,
    schema: {
      tags, summary: 'Queue a check of every link and image in a template (published version, else the latest draft)',
      params: idParams,
      response: { 202: z.object({ queued: z.literal(true) }) },
    },
  }, async (req, reply) => {
    await linkChecks.enqueue(req.workspaceId, req.params.id);
    return reply.status(202).send({ queued: true });
  });

  app.get(path, {
    preHandler, config,
    schema: {
      tags, summary: "The last link check of a template: one result per URL (checkedAt null before the first check)",
      params: idParams,
      response: { 200: z.object({ checkedAt: z.string().nullable(), results: z.array(resultView) }) },
    },
  }, async (req) => {
    const check = await linkChecks.results(req.workspaceId, req.params.id);
    return { checkedAt: check.checkedAt?.toISOString() ?? null, results: check.results };
  });
}
