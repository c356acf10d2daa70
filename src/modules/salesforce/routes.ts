// /api/connectors/salesforce: the workspace's Salesforce connection (the secret is never answered).
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { SalesforceConnection } from './repo.ts';
import type { SalesforceService } from './service.ts';

const statusView = z.object({
  instanceUrl: z.string(), clientId: z.string(),
  authFlow: z.enum(['client_credentials', 'refresh_token']).describe('refresh_token when a refresh token was given'),
  lastSyncAt: z.string().nullable(), lastSyncStatus: z.enum(['ok', 'error']).nullable(), lastSyncError: z.string().nullable(),
  syncedCount: z.number().int().describe('Lead and Contact records updated so far'),
  createdAt: z.string(), updatedAt: z.string(),
});

function statusOut(c: SalesforceConnection): z.infer<typeof statusView> {
  return {
    instanceUrl: c.instanceUrl, clientId: c.clientId, authFlow: c.refreshToken ? 'refresh_token' : 'client_credentials',
    lastSyncAt: c.lastSyncAt?.toISOString() ?? null, lastSyncStatus: c.lastSyncStatus, lastSyncError: c.lastSyncError,
    syncedCount: c.syncedCount, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString(),
  };
}

export function registerSalesforceRoutes(app: TandemApp, salesforce: SalesforceService): void {
  const tags = ['connectors'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  const path = '/api/connectors/salesforce';

  app.put(path, {
    preHandler, config,
    schema: {
      tags, summary: 'Connect Salesforce (or replace the connection): email opt-outs are pushed to Leads and Contacts',
      body: z.object({
        instanceUrl: z.string().min(1).max(500).describe('Your My Domain URL, e.g. https://acme.my.salesforce.com'),
        clientId: z.string().min(1).max(500).describe('The external client app\'s consumer key'),
        clientSecret: z.string().min(1).max(500).optional().describe('The consumer secret (client credentials flow); stored in the database as given'),
        refreshToken: z.string().min(1).max(2000).optional().describe('Use the refresh token flow instead; stored as given'),
      }).strict(),
      response: { 200: statusView },
    },
  }, async (req) => statusOut(await salesforce.connect(req.workspaceId, req.body)));

  app.get(path, {
    preHandler, config,
    schema: { tags, summary: 'The Salesforce connection and its last sync (never the secret)', response: { 200: statusView } },
  }, async (req) => statusOut(await salesforce.get(req.workspaceId)));

  app.delete(path, {
    preHandler, config,
    schema: { tags, summary: 'Remove the Salesforce connection', response: { 204: z.null() } },
  }, async (req, reply) => {
    await salesforce.disconnect(req.workspaceId);
    return reply.status(204).send(null);
  });
}
