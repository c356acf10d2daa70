// /api/content/{layouts,components,snippets,templates}: CRUD, versions and publish, one family per kind.
import { z } from 'zod';
import { AppError } from '../../../errors.ts';
import type { TandemApp } from '../../../http/types.ts';
import type { ContentService } from './service.ts';
import {
  BODY_SCHEMAS, KIND_PATH, RESOURCE_KINDS, resourceName,
  type ContentResource, type ContentResourceDetail, type ContentVersion, type ResourceKind,
} from './types.ts';

const storedBody = z.record(z.string(), z.unknown()).describe('The body as saved (see the create request)');

const versionView = z.object({
  version: z.number().int(), body: storedBody, createdAt: z.string(),
  publishedAt: z.string().nullable().describe('When this version was last published'),
});

const summaryView = z.object({
  id: z.string(), kind: z.enum(RESOURCE_KINDS), name: z.string(),
  draftVersion: z.number().int().describe('The latest saved version'),
  publishedVersion: z.number().int().nullable(),
  createdAt: z.string(), updatedAt: z.string(),
});

const lintFinding = z.object({
  rule: z.string(), severity: z.enum(['error', 'warning']), message: z.string(), locale: z.string().nullable(),
  part: z.string().optional(), line: z.number().int().optional(), column: z.number().int().optional(),
  field: z.string().optional(), url: z.string().optional(),
});
export const lintView = z.object({
  templateId: z.string(), version: z.number().int(), findings: z.array(lintFinding),
  errors: z.number().int(), warnings: z.number().int(),
});
export type LintView = z.infer<typeof lintView>;

/** Lints a template version (wired by the registry: composing needs the templates code). */
export type LintHook = (workspaceId: string, templateId: string, version: number) => Promise<LintView>;

const detailView = summaryView.extend({
  draft: versionView.describe('The latest saved version'),
  published: versionView.nullable().describe('The published version, null until the first publish'),
  lint: lintView.optional().describe('Templates: the lint of the saved version (errors block publishing)'),
});

function versionOut(v: ContentVersion): z.infer<typeof versionView> {
  return { version: v.version, body: v.body, createdAt: v.createdAt.toISOString(), publishedAt: v.publishedAt?.toISOString() ?? null };
}

function summaryOut(r: ContentResource): z.infer<typeof summaryView> {
  return {
    id: r.id, kind: r.kind, name: r.name, draftVersion: r.draftVersion, publishedVersion: r.publishedVersion,
    createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  };
}

function detailOut(r: ContentResourceDetail): z.infer<typeof detailView> {
  return { ...summaryOut(r), draft: versionOut(r.draft), published: r.published && versionOut(r.published) };
}

const idParams = z.object({ id: z.string().max(200) });

function registerKind(app: TandemApp, content: ContentService, kind: ResourceKind, lint: LintHook | undefined): void {
  // Templates answer saves with their lint; a publish with lint errors is refused unless forced.
  const withLint = async (ws: string, r: ContentResourceDetail) =>
    (kind === 'template' && lint ? { ...detailOut(r), lint: await lint(ws, r.id, r.draftVersion) } : detailOut(r));
  const tags = ['content'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const base = `/api/content/${KIND_PATH[kind]}`;
  const bodySchema = BODY_SCHEMAS[kind];

  app.get(base, {
    preHandler, config,
    schema: {
      tags, summary: `List ${KIND_PATH[kind]} by name`,
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(500).default(100),
        after: z.string().max(200).optional().describe('The `next` of the previous page'),
      }),
      response: { 200: z.object({ resources: z.array(summaryView), next: z.string().nullable() }) },
    },
  }, async (req) => {
    const page = await content.list(req.workspaceId, kind, { limit: req.query.limit, after: req.query.after });
    return { resources: page.resources.map(summaryOut), next: page.next };
  });

  app.post(base, {
    preHandler, config,
    schema: {
      tags, summary: `Create a ${kind}; its body is saved as version 1 (a draft)`,
      body: z.object({ name: resourceName, body: bodySchema }),
      response: { 201: detailView },
    },
  }, async (req, reply) => {
    const created = await content.create(req.workspaceId, kind, req.body.name, req.body.body);
    return reply.status(201).send(await withLint(req.workspaceId, created));
  });

  app.get(`${base}/:id`, {
    preHandler, config,
    schema: { tags, summary: `A ${kind} with its draft and published versions`, params: idParams, response: { 200: detailView } },
  }, async (req) => detailOut(await content.get(req.workspaceId, kind, req.params.id)));

  app.put(`${base}/:id`, {
    preHandler, config,
    schema: {
      tags, summary: `Save a new draft version of a ${kind} (and rename it, if a name is given)`,
      params: idParams,
      body: z.object({ name: resourceName.optional(), body: bodySchema }),
      response: { 200: detailView },
    },
  }, async (req) => withLint(req.workspaceId, await content.update(req.workspaceId, kind, req.params.id, { name: req.body.name, body: req.body.body })));

  app.get(`${base}/:id/versions`, {
    preHandler, config,
    schema: {
      tags, summary: `Every saved version of a ${kind}, newest first`, params: idParams,
      response: { 200: z.object({ versions: z.array(versionView) }) },
    },
  }, async (req) => ({ versions: (await content.versions(req.workspaceId, kind, req.params.id)).map(versionOut) }));

  app.post(`${base}/:id/publish`, {
    preHandler, config,
    schema: {
      tags, summary: `Publish a version of a ${kind} (the latest draft when none is given)`,
      params: idParams,
      body: z.object({
        version: z.number().int().min(1).optional(),
        ...(kind === 'template' ? { force: z.boolean().optional().describe('Publish despite lint errors') } : {}),
      }).nullish().describe('May be left out'),
      response: { 200: detailView },
    },
  }, async (req) => {
    const body = req.body as { version?: number; force?: boolean } | null | undefined;
    if (kind === 'template' && lint && body?.force !== true) {
      const current = await content.get(req.workspaceId, kind, req.params.id);
      const version = body?.version ?? current.draftVersion;
      if (version <= current.draftVersion) {
        const result = await lint(req.workspaceId, req.params.id, version);
        if (result.errors > 0) {
          const first = result.findings.find((f) => f.severity === 'error');
          throw new AppError('content.lint_failed', `${result.errors} lint error(s); the first: ${first?.rule ?? ''}: ${first?.message ?? ''}`.slice(0, 500), {
            field: 'version', findings: result.findings.filter((f) => f.severity === 'error'),
          });
        }
      }
    }
    return detailOut(await content.publish(req.workspaceId, kind, req.params.id, body?.version));
  });

  app.delete(`${base}/:id`, {
    preHandler, config,
    schema: { tags, summary: `Delete a ${kind} and all its versions`, params: idParams, response: { 204: z.null() } },
  }, async (req, reply) => {
    await content.delete(req.workspaceId, kind, req.params.id);
    return reply.status(204).send(null);
  });
}

export function registerContentResourceRoutes(app: TandemApp, content: ContentService, opts: { lint?: LintHook } = {}): void {
  for (const kind of RESOURCE_KINDS) registerKind(app, content, kind, opts.lint);
}
