import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { WorkspaceService } from './service.ts';
import type { KeyRow, WorkspaceRow } from './repo.ts';

const settingsView = z.object({
  postalAddress: z.string().optional().describe('Printed in email footers (CAN-SPAM / CASL ask for one)'),
  fromName: z.string().optional(), fromAddress: z.string().optional(), replyTo: z.string().optional(),
  defaultLocale: z.string().optional().describe('The locale of templates without a matching translation'),
  messageRetentionDays: z.number().int().optional().describe('Days the HTML and text of sent messages are kept'),
});

const workspaceView = z.object({ id: z.string(), name: z.string(), siteId: z.string(), createdAt: z.string(), settings: settingsView });

const settingsChange = z.object({
  postalAddress: z.string().max(500).nullable().optional(),
  fromName: z.string().max(200).nullable().optional(),
  fromAddress: z.email().max(320).nullable().optional(),
  replyTo: z.email().max(320).nullable().optional(),
  defaultLocale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'a locale such as "en" or "pt-BR"').nullable().optional(),
  messageRetentionDays: z.number().int().min(1).max(3650).nullable().optional(),
}).strict().describe('Fields to set; null removes one');

function workspaceOut(ws: WorkspaceRow): z.infer<typeof workspaceView> {
  return { id: ws.id, name: ws.name, siteId: ws.siteId, createdAt: ws.createdAt.toISOString(), settings: ws.settings };
}

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
    schema: { tags, summary: 'The workspace of the calling key, with its settings', response: { 200: workspaceView } },
  }, async (req) => workspaceOut(await workspaces.get(req.workspaceId)));

  app.patch('/api/workspace', {
    preHandler,
    schema: {
      tags, summary: 'Rename the workspace or change its settings (postal address, sending defaults, locale)',
      body: z.object({ name: z.string().min(1).max(200).optional(), settings: settingsChange.optional() }).strict(),
      response: { 200: workspaceView },
    },
  }, async (req) => workspaceOut(await workspaces.update(req.workspaceId, req.body)));

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
