import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { WorkspaceService } from './service.ts';
import type { KeyRow } from './repo.ts';

const keyKind = z.enum(['write', 'track', 'app']);

const keyView = z.object({
  id: z.string(), kind: keyKind, name: z.string(), prefix: z.string(),
  createdAt: z.string(), revokedAt: z.string().nullable(), lastUsedAt: z.string().nullable(),
});

function view(k: KeyRow): z.infer<typeof keyView> {
  return {
    id: k.id, kind: k.kind, name: k.name, prefix: k.prefix, createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt?.toISOString() ?? null, lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  };
}

export function registerWorkspaceRoutes(app: TandemApp, workspaces: WorkspaceService): void {
  const tags = ['workspace'];
  const preHandler = app.auth.appKey;

  app.get('/api/workspace', {
    preHandler,
    schema: { tags, summary: 'The workspace of the calling key',
      response: { 200: z.object({ id: z.string(), name: z.string(), siteId: z.string(), createdAt: z.string() }) } },
  }, async (req) => {
    const ws = await workspaces.get(req.workspaceId);
    return { id: ws.id, name: ws.name, siteId: ws.siteId, createdAt: ws.createdAt.toISOString() };
  });

  app.get('/api/keys', {
    preHandler,
    schema: { tags, summary: 'List keys (prefixes only)', response: { 200: z.object({ keys: z.array(keyView) }) } },
  }, async (req) => ({ keys: (await workspaces.listKeys(req.workspaceId)).map(view) }));

  app.post('/api/keys', {
    preHandler,
    schema: {
      tags, summary: 'Create a key; the secret is shown once',
      body: z.object({ kind: keyKind, name: z.string().max(200).optional() }),
      response: { 201: z.object({ key: keyView, secret: z.string() }) },
    },
  }, async (req, reply) => {
    const created = await workspaces.createKey(req.workspaceId, req.body.kind, req.body.name);
    return reply.status(201).send({ key: view(created.key), secret: created.secret });
  });

  app.post('/api/keys/:id/rotate', {
    preHandler,
    schema: {
      tags, summary: 'Replace a key with a new secret and revoke the old one',
      params: z.object({ id: z.string() }),
      response: { 200: z.object({ key: keyView, secret: z.string() }) },
    },
  }, async (req) => {
    const created = await workspaces.rotateKey(req.workspaceId, req.params.id);
    return { key: view(created.key), secret: created.secret };
  });

  app.delete('/api/keys/:id', {
    preHandler,
    schema: { tags, summary: 'Revoke a key', params: z.object({ id: z.string() }), response: { 204: z.null() } },
  }, async (req, reply) => {
    await workspaces.revokeKey(req.workspaceId, req.params.id);
    return reply.status(204).send(null);
  });
}
