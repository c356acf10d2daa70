// GET/HEAD /assets/<hash>.<ext>[?w=600]: public (emails embed these URLs), immutable, content-addressed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { binary, PUBLIC } from '../../http/openapi.ts';
import type { TandemApp } from '../../http/types.ts';
import type { AssetService } from './service.ts';

const CACHE = 'public, max-age=31536000, immutable';
// An SVG opened directly is a document: no script, no fetches, no plugins, no same-origin access.
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/** Whether If-None-Match names this ETag (a list, or *). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').map((s) => s.trim().replace(/^W\//, '')).some((t) => t === etag || t === '*');
}

export function registerAssetFileRoutes(app: TandemApp, assets: AssetService): void {
  app.get('/assets/:file', {
    config: { dialect: 'tandem' },
    // Public: emails embed these URLs. Variants and limits: docs/assets.md.
    schema: {
      tags: ['assets'], security: PUBLIC, summary: 'An asset\'s file by content hash (immutable; ETag and If-None-Match)',
      params: z.object({ file: z.string().max(200).describe('<sha256>.<ext>') }),
      querystring: z.object({ w: z.string().max(10).optional().describe('Width of a resized variant') }),
      produces: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'],
      response: { 200: binary('The file'), 304: z.null().describe('Not modified') },
    },
  }, async (req: FastifyRequest<{ Params: { file: string }; Querystring: { w?: string } }>, reply: FastifyReply) => {
    const file = await assets.serve(req.params.file, req.query.w);
    reply.header('cache-control', CACHE).header('etag', file.etag).header('x-content-type-options', 'nosniff');
    if (file.contentType === 'image/svg+xml') reply.header('content-security-policy', SVG_CSP);
    if (matches(req.headers['if-none-match'], file.etag)) return reply.status(304).send();
    return reply.header('content-type', file.contentType).send(file.data);
  });
}
