// /api/assets: upload (multipart), import from a URL, the library (list, read, change, delete, folders,
// where-used); and /assets/<hash>.<ext>: the public files emails embed.
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, isAppError } from '../../errors.ts';
import { guardValue } from '../../http/input-guard.ts';
import type { TandemApp } from '../../http/types.ts';
import type { AssetService } from './service.ts';
import {
  ASSET_TYPES, assetAlt, assetFolder, assetMetaSchema, assetName, assetTag, assetTags, splitTags,
  type Asset, type AssetMeta,
} from './types.ts';
import { registerAssetFileRoutes } from './file-routes.ts';

const assetView = z.object({
  id: z.string(), name: z.string(), url: z.string().describe('The public, immutable URL of the file'),
  hash: z.string().describe('SHA-256 of the stored bytes (hex)'),
  contentType: z.enum(Object.keys(ASSET_TYPES) as [keyof typeof ASSET_TYPES, ...(keyof typeof ASSET_TYPES)[]]),
  bytes: z.number().int(), width: z.number().int().nullable(), height: z.number().int().nullable(),
  alt: z.string(), folder: z.string().nullable(), tags: z.array(z.string()),
  sourceUrl: z.string().nullable().describe('The URL an imported asset was copied from'),
  createdAt: z.string(), updatedAt: z.string(),
});

const idParams = z.object({ id: z.string().max(200) });

function fieldOf(issue: z.core.$ZodIssue | undefined, fallback: string): string {
  return issue?.path.length ? issue.path.map(String).join('.') : fallback;
}

/** Form fields of an upload, validated like the JSON routes' fields. */
function parseFormMeta(fields: Map<string, string[]>): AssetMeta {
  const one = (k: string) => fields.get(k)?.at(-1);
  const raw: Record<string, unknown> = {};
  if (one('name') !== undefined) raw.name = one('name');
  if (one('alt') !== undefined) raw.alt = one('alt');
  if (one('folder') !== undefined) raw.folder = one('folder');
  if (fields.has('tags')) raw.tags = splitTags(fields.get('tags') ?? []);
  // Form fields are read here, after the input guard saw the (multipart) body: the same checks.
  guardValue(raw, []);
  const parsed = assetMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = fieldOf(issue, 'body').replace(/^tags\.\d+$/, 'tags');
    throw new AppError('request.invalid', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  return parsed.data;
}

const MULTIPART_ERRORS: Record<string, { field: string; message: string }> = {
  FST_FILES_LIMIT: { field: 'file', message: 'Send one file per upload.' },
  FST_FIELDS_LIMIT: { field: 'body', message: 'Too many form fields.' },
  FST_PARTS_LIMIT: { field: 'body', message: 'Too many form parts.' },
  FST_PROTO_VIOLATION: { field: 'body', message: 'Invalid form field name.' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { field: 'content-type', message: 'Send multipart/form-data.' },
};

async function readUpload(req: FastifyRequest, maxBytes: number): Promise<{ data: Buffer; filename: string | undefined; fields: Map<string, string[]> }> {
  if (!req.isMultipart()) {
    throw new AppError('request.unsupported_media_type', 'Upload with multipart/form-data (a `file` field).', { field: 'content-type' });
  }
  const fields = new Map<string, string[]>();
  let data: Buffer | undefined;
  let filename: string | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || data !== undefined) {
          throw new AppError('request.invalid', 'Send the image in one field named `file`.', { field: part.fieldname });
        }
        data = await part.toBuffer();
        filename = part.filename || undefined;
      } else {
        const value = typeof part.value === 'string' ? part.value : String(part.value);
        fields.set(part.fieldname, [...(fields.get(part.fieldname) ?? []), value]);
      }
    }
  } catch (err) {
    if (isAppError(err)) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new AppError('asset.too_large', `The file is larger than ${maxBytes} bytes.`, { field: 'file' });
    const known = typeof code === 'string' ? MULTIPART_ERRORS[code] : undefined;
    if (known) throw new AppError('request.invalid', known.message, { field: known.field });
    throw new AppError('request.invalid', `The form could not be read: ${(err as Error).message}`, { field: 'body' });
  }
  if (data === undefined) throw new AppError('request.invalid', 'file: required', { field: 'file' });
  return { data, filename, fields };
}

export function registerAssetRoutes(app: TandemApp, assets: AssetService, opts: { maxBytes: number }): void {
  const view = (a: Asset): z.infer<typeof assetView> => ({
    id: a.id, name: a.name, url: assets.urlOf(a.hash, a.contentType), hash: a.hash, contentType: a.contentType,
    bytes: a.bytes, width: a.width, height: a.height, alt: a.alt, folder: a.folder, tags: a.tags, sourceUrl: a.sourceUrl,
    createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString(),
  });
  const tags = ['assets'];
  const config = { dialect: 'tandem' as const };

  registerAssetFileRoutes(app, assets);

  // Multipart only where uploads are taken; the file is streamed and cut off past the limit.
  void app.register(async (scope: TandemApp) => {
    await scope.register(multipart, {
      limits: { fileSize: opts.maxBytes, files: 1, fields: 40, fieldSize: 16 * 1024, parts: 50, headerPairs: 100 },
    });
    const preHandler = scope.auth.appKey;

    scope.post('/api/assets', {
      preHandler, config,
      schema: {
        tags, consumes: ['multipart/form-data'],
        summary: 'Upload an image (multipart/form-data: file, and optional name, alt, folder, tags)',
        description: 'PNG, JPEG, GIF, WebP or SVG, judged from the bytes. 201 for a new asset; 200 with the existing asset when the workspace already has these bytes.',
        response: { 200: assetView, 201: assetView },
      },
    }, async (req, reply) => {
      const upload = await readUpload(req, opts.maxBytes);
      const meta = parseFormMeta(upload.fields);
      const name = meta.name ?? upload.filename?.split(/[\\/]/).pop()?.slice(0, 200).trim();
      const saved = await assets.upload(req.workspaceId, upload.data, { ...meta, ...(name ? { name } : {}) });
      return reply.status(saved.created ? 201 : 200).send(view(saved.asset));
    });

    scope.post('/api/assets/import', {
      preHandler, config,
      schema: {
        tags, summary: 'Copy an image from a URL into the library',
        description: 'Public addresses only (see operations: Outbound requests). 201 new, 200 when the workspace already has these bytes.',
        body: z.object({
          url: z.string().min(1).max(2000), name: assetName.optional(), alt: assetAlt.optional(),
          folder: assetFolder.optional(), tags: assetTags.optional(),
        }).strict(),
        response: { 200: assetView, 201: assetView },
      },
    }, async (req, reply) => {
      const { url, ...meta } = req.body;
      const saved = await assets.importUrl(req.workspaceId, url, meta);
      return reply.status(saved.created ? 201 : 200).send(view(saved.asset));
    });

    scope.get('/api/assets', {
      preHandler, config,
      schema: {
        tags, summary: 'The library, newest first',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(500).optional().describe('The `nextCursor` of the previous page'),
          folder: z.string().max(200).optional().describe('Exact folder; empty for assets in no folder'),
          tag: assetTag.optional(),
          q: z.string().max(200).optional().describe('Part of the name (case-insensitive)'),
        }),
        response: { 200: z.object({ assets: z.array(assetView), nextCursor: z.string().nullable() }) },
      },
    }, async (req) => {
      const { folder, ...rest } = req.query;
      const page = await assets.list(req.workspaceId, { ...rest, folder: folder === undefined ? undefined : folder.replace(/^\/+|\/+$/g, '') || null });
      return { assets: page.assets.map(view), nextCursor: page.nextCursor };
    });

    scope.get('/api/assets/folders', {
      preHandler, config,
      schema: {
        tags, summary: 'Folders in use, with how many assets each holds (null: no folder)',
        response: { 200: z.object({ folders: z.array(z.object({ folder: z.string().nullable(), count: z.number().int() })) }) },
      },
    }, async (req) => ({ folders: await assets.folders(req.workspaceId) }));

    scope.get('/api/assets/:id', {
      preHandler, config,
      schema: { tags, summary: 'One asset', params: idParams, response: { 200: assetView } },
    }, async (req) => view(await assets.get(req.workspaceId, req.params.id)));

    scope.patch('/api/assets/:id', {
      preHandler, config,
      schema: {
        tags, summary: 'Change an asset\'s name, alt text, folder or tags (the file never changes)',
        params: idParams, body: assetMetaSchema, response: { 200: assetView },
      },
    }, async (req) => view(await assets.update(req.workspaceId, req.params.id, req.body)));

    scope.get('/api/assets/:id/usage', {
      preHandler, config,
      schema: {
        tags, summary: 'Where the asset is used: templates, layouts and components whose draft or published body points at it',
        params: idParams,
        response: { 200: z.object({ usage: z.array(z.object({ kind: z.string(), id: z.string(), name: z.string() })) }) },
      },
    }, async (req) => ({ usage: await assets.usage(req.workspaceId, req.params.id) }));

    scope.delete('/api/assets/:id', {
      preHandler, config,
      schema: {
        tags, summary: 'Delete an asset (409 asset.in_use while templates use it, unless force=true)',
        params: idParams,
        querystring: z.object({ force: z.enum(['true', 'false']).default('false') }),
        response: { 204: z.null() },
      },
    }, async (req, reply) => {
      await assets.delete(req.workspaceId, req.params.id, { force: req.query.force === 'true' });
      return reply.status(204).send(null);
    });
  });
}
