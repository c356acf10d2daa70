// Key authentication for the three API families. Each sets request.workspaceId.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../errors.ts';
import type { WorkspaceService } from '../modules/workspaces/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
  }
}

function basicCredentials(request: FastifyRequest): { user: string; pass: string } | undefined {
  const header = request.headers.authorization;
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? { user: decoded, pass: '' } : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header?.toLowerCase().startsWith('bearer ')) return undefined;
  return header.slice(7).trim();
}

export interface AuthHooks {
  /** Segment: Basic auth with the write key as user name, or `writeKey` in the body. */
  writeKey: preHandlerAsyncHookHandler;
  /** Customer.io Track API: Basic auth site id : track API key. */
  trackKey: preHandlerAsyncHookHandler;
  /** Customer.io App API and Tandem's REST API: Bearer app API key. */
  appKey: preHandlerAsyncHookHandler;
}

export function createAuthHooks(workspaces: WorkspaceService): AuthHooks {
  return {
    async writeKey(request: FastifyRequest, _reply: FastifyReply) {
      const body = request.body as { writeKey?: unknown } | undefined;
      const secret = basicCredentials(request)?.user
        || (body && typeof body === 'object' && typeof body.writeKey === 'string' ? body.writeKey : undefined);
      if (!secret) throw new AppError('auth.missing', 'Send the write key as the Basic auth user name.', { field: 'authorization' });
      const key = await workspaces.authenticate('write', secret);
      if (!key) throw new AppError('auth.invalid', 'The write key is not valid.', { field: 'authorization' });
      request.workspaceId = key.workspaceId;
    },

    async trackKey(request: FastifyRequest, _reply: FastifyReply) {
      const creds = basicCredentials(request);
      if (!creds?.pass) throw new AppError('auth.missing', 'Send Basic auth site_id:api_key.', { field: 'authorization' });
      const key = await workspaces.authenticate('track', creds.pass);
      if (!key || key.siteId !== creds.user) {
        throw new AppError('auth.invalid', 'The site id and API key do not match.', { field: 'authorization' });
      }
      request.workspaceId = key.workspaceId;
    },

    async appKey(request: FastifyRequest, _reply: FastifyReply) {
      const secret = bearer(request);
      if (!secret) throw new AppError('auth.missing', 'Send the app API key as a Bearer token.', { field: 'authorization' });
      const key = await workspaces.authenticate('app', secret);
      if (!key) throw new AppError('auth.invalid', 'The app API key is not valid.', { field: 'authorization' });
      request.workspaceId = key.workspaceId;
    },
  };
}
