// Assets: upload and import into a workspace's library (deduplicated by content), the library itself,
// where-used, and the public, immutable, content-addressed file URLs with resized variants.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/pool.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { safeFetch, type OutboundOptions } from '../../net/index.ts';
import { detectImage } from './detect.ts';
import { createAssetRepo } from './repo.ts';
import { createBlobStore, type BlobStore } from './storage/store.ts';
import {
  ASSET_TYPES, VARIANT_WIDTHS,
  type Asset, type AssetContentType, type AssetMeta, type AssetPage, type AssetUsage, type UsageFinder,
} from './types.ts';
import { resize } from './variants.ts';

export interface AssetServiceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  config: Pick<Config, 'publicUrl' | 'assetMaxBytes' | 'assetStore' | 'outboundAllowPrivate'>;
  usage: UsageFinder;
  /** Defaults to the store TANDEM_ASSET_STORE names. */
  store?: BlobStore;
  /** Extra outbound options for import (tests inject a resolver). */
  outbound?: Pick<OutboundOptions, 'resolve' | 'timeoutMs' | 'connectTimeoutMs'>;
}

export interface Saved {
  asset: Asset;
  /** false when the workspace already had these bytes and the existing asset is returned. */
  created: boolean;
}

export interface ServedFile {
  data: Buffer;
  contentType: AssetContentType;
  etag: string;
}

const ID_PATTERN = /^ast_[0-9a-f]{20}$/;
const FILE_PATTERN = /^([0-9a-f]{64})\.([a-z]+)$/;

function notFound(field?: string): AppError {
  return new AppError('asset.not_found', undefined, field ? { field } : {});
}

function encodeCursor(a: Asset): string {
  return Buffer.from(JSON.stringify([a.createdAt.toISOString(), a.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const createdAt = new Date(String(at));
    if (typeof id === 'string' && ID_PATTERN.test(id) && !Number.isNaN(createdAt.getTime())) return { createdAt, id };
  } catch {
    // fall through
  }
  throw new AppError('request.invalid', 'cursor: not a cursor this API gave out', { field: 'cursor' });
}

/** The last path segment of a URL, as a default asset name. */
function nameFromUrl(url: string): string {
  try {
    const u = new URL(url);
    const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '');
    return (last || u.hostname).slice(0, 200);
  } catch {
    return 'imported image';
  }
}

export function createAssetService(deps: AssetServiceDeps) {
  const { db, clock, config, usage } = deps;
  const store = deps.store ?? createBlobStore(config.assetStore, db);
  const log = deps.log.child({ module: 'assets' });
  const maxBytes = config.assetMaxBytes;

  const urlOf = (hash: string, contentType: AssetContentType) =>
    `${config.publicUrl.replace(/\/+$/, '')}/assets/${hash}.${ASSET_TYPES[contentType]}`;

  async function existing(workspaceId: string, id: string): Promise<Asset> {
    if (!ID_PATTERN.test(id)) throw notFound('id');
    const asset = await createAssetRepo(db).find(workspaceId, id);
    if (!asset) throw notFound('id');
    return asset;
  }

  /** Stores the file (once per content) and adds it to the workspace's library (once per workspace). */
  async function save(workspaceId: string, bytes: Buffer, meta: AssetMeta & { sourceUrl?: string }, field: string): Promise<Saved> {
    if (bytes.length > maxBytes) throw new AppError('asset.too_large', `The file is larger than ${maxBytes} bytes.`, { field });
    const image = await detectImage(bytes, field);
    const hash = createHash('sha256').update(image.data).digest('hex');
    const at = clock.now();
    const created = await db.transaction().execute(async (tx) => {
      const repo = createAssetRepo(tx);
      // Locks the file record: a delete of the last asset with these bytes either finished before
      // (and this recreates the record) or waits until this asset exists (and keeps the file).
      await repo.claimBlob({ hash, contentType: image.contentType, bytes: image.data.length, width: image.width, height: image.height }, at);
      return repo.insert(workspaceId, {
        id: `ast_${randomBytes(10).toString('hex')}`, hash, name: meta.name ?? hash.slice(0, 12), alt: meta.alt ?? '',
        folder: meta.folder || null, tags: meta.tags ?? [], sourceUrl: meta.sourceUrl ?? null, at,
      });
    });
    // After the commit, so that a concurrent delete cannot remove the bytes of a committed asset.
    await store.put(hash, image.data, image.contentType);
    const asset = await createAssetRepo(db).findByHash(workspaceId, hash);
    if (!asset) throw new Error(`asset ${hash} vanished after insert`);
    return { asset, created };
  }

  return {
    urlOf,

    /** Validated metadata in; the workspace's new asset (201) or the existing one with the same bytes (200). */
    upload(workspaceId: string, data: Buffer, meta: AssetMeta): Promise<Saved> {
      return save(workspaceId, data, meta, 'file');
    },

    /** Copies an outside image into the library through the SSRF-guarded client. */
    async importUrl(workspaceId: string, url: string, meta: AssetMeta): Promise<Saved> {
      let res;
      try {
        res = await safeFetch(url, {
          ...deps.outbound, allowPrivate: config.outboundAllowPrivate, maxBytes,
          headers: { accept: 'image/png, image/jpeg, image/gif, image/webp, image/svg+xml;q=0.9, */*;q=0.1' },
        });
      } catch (err) {
        if (isAppError(err) && err.code === 'net.too_large') {
          throw new AppError('asset.too_large', `The image at the URL is larger than ${maxBytes} bytes.`, { field: 'url' });
        }
        if (isAppError(err)) throw new AppError(err.code, err.message, { ...err.details, field: 'url' });
        throw err;
      }
      if (res.status < 200 || res.status > 299) {
        throw new AppError('asset.import_failed', `The URL answered with status ${res.status}.`, { field: 'url', status: res.status });
      }
      return save(workspaceId, res.body, { ...meta, name: meta.name ?? nameFromUrl(res.url), sourceUrl: url }, 'url');
    },

    async list(workspaceId: string, opts: { limit?: number; cursor?: string | undefined; folder?: string | null | undefined; tag?: string | undefined; q?: string | undefined } = {}): Promise<AssetPage> {
      const limit = opts.limit ?? 50;
      const rows = await createAssetRepo(db).list(workspaceId, {
        limit: limit + 1, folder: opts.folder, tag: opts.tag, q: opts.q,
        after: opts.cursor !== undefined ? decodeCursor(opts.cursor) : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { assets: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },

    get: existing,

    async update(workspaceId: string, id: string, meta: AssetMeta): Promise<Asset> {
      await existing(workspaceId, id);
      const folder = meta.folder === undefined ? undefined : meta.folder || null;
      await createAssetRepo(db).update(workspaceId, id, { ...meta, folder, at: clock.now() });
      return existing(workspaceId, id);
    },

    /** Where-used: the templates, layouts and components that point at the asset's URL. */
    async usage(workspaceId: string, id: string): Promise<AssetUsage[]> {
      const asset = await existing(workspaceId, id);
      return usage(workspaceId, `/assets/${asset.hash}`);
    },

    /** Refused while templates use the asset, unless forced. The file goes when no workspace has it. */
    async delete(workspaceId: string, id: string, opts: { force?: boolean } = {}): Promise<void> {
      const asset = await existing(workspaceId, id);
      if (!opts.force) {
        const users = await usage(workspaceId, `/assets/${asset.hash}`);
        if (users.length) {
          const names = users.slice(0, 5).map((u) => `${u.kind} "${u.name}"`).join(', ');
          throw new AppError('asset.in_use', `The asset is used by ${users.length} resource(s): ${names}${users.length > 5 ? ', …' : ''}. Delete with ?force=true to delete it anyway.`, { field: 'id' });
        }
      }
      await db.transaction().execute(async (tx) => {
        const repo = createAssetRepo(tx);
        const hash = await repo.delete(workspaceId, id);
        if (!hash) throw notFound('id');
        if (!(await repo.blobUnused(hash))) return;
        // Bytes go while the file record is locked, so an upload of the same bytes waits and re-stores them.
        await store.delete(hash);
        for (const w of VARIANT_WIDTHS) await store.delete(`${hash}_w${w}`);
        await repo.deleteBlob(hash);
      });
    },

    async folders(workspaceId: string): Promise<Array<{ folder: string | null; count: number }>> {
      return createAssetRepo(db).folders(workspaceId);
    },

    /** The public file `<hash>.<ext>`, or its `w`-wide variant (never wider than the original). */
    async serve(file: string, w?: string): Promise<ServedFile> {
      let width: number | undefined;
      if (w !== undefined) {
        width = /^\d{1,5}$/.test(w) ? Number(w) : NaN;
        if (!(VARIANT_WIDTHS as readonly number[]).includes(width)) {
          throw new AppError('asset.bad_width', `w must be one of ${VARIANT_WIDTHS.join(', ')}.`, { field: 'w' });
        }
      }
      const m = FILE_PATTERN.exec(file);
      const hash = m?.[1];
      if (!m || !hash) throw notFound();
      const blob = await createAssetRepo(db).blob(hash);
      if (!blob || ASSET_TYPES[blob.contentType] !== m[2]) throw notFound();
      const original = async (): Promise<Buffer> => {
        const data = await store.get(hash);
        if (!data) {
          log.error({ hash, store: store.kind }, 'asset file missing from the store');
          throw notFound();
        }
        return data;
      };
      const contentType = blob.contentType;
      // SVG scales by itself; a width at or above the original's is the original (never upscaled).
      if (width === undefined || contentType === 'image/svg+xml' || blob.width === null || width >= blob.width) {
        return { data: await original(), contentType, etag: `"${hash}"` };
      }
      const key = `${hash}_w${width}`;
      let data = await store.get(key);
      if (!data) {
        data = await resize(await original(), contentType, width);
        await store.put(key, data, contentType);
      }
      return { data, contentType, etag: `"${key}"` };
    },
  };
}

export type AssetService = ReturnType<typeof createAssetService>;
