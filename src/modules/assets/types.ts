// Assets: images in a workspace's library, each pointing at one content-addressed file.
import { z } from 'zod';

export const ASSET_TYPES = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
} as const;

export type AssetContentType = keyof typeof ASSET_TYPES;
export type AssetExtension = (typeof ASSET_TYPES)[AssetContentType];

export const EXTENSION_TYPES = Object.fromEntries(
  Object.entries(ASSET_TYPES).map(([type, ext]) => [ext, type]),
) as Record<AssetExtension, AssetContentType>;

/** The widths `?w=` may ask for: a fixed list, so variants cannot be used to fill the store. */
export const VARIANT_WIDTHS = [100, 200, 320, 480, 600, 800, 1200, 1600, 2000] as const;

export interface Asset {
  id: string;
  name: string;
  hash: string;
  contentType: AssetContentType;
  bytes: number;
  width: number | null;
  height: number | null;
  alt: string;
  folder: string | null;
  tags: string[];
  sourceUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The stored file an asset points at (shared by every workspace that has the same bytes). */
export interface AssetBlob {
  hash: string;
  contentType: AssetContentType;
  bytes: number;
  width: number | null;
  height: number | null;
}

export interface AssetMeta {
  name?: string | undefined;
  alt?: string | undefined;
  /** null (or "") puts the asset at the top level. */
  folder?: string | null | undefined;
  tags?: string[] | undefined;
}

export interface AssetPage {
  assets: Asset[];
  nextCursor: string | null;
}

export interface AssetUsage {
  kind: string;
  id: string;
  name: string;
}

/** Finds the templates, layouts and components whose latest draft or published body contains `needle`. */
export type UsageFinder = (workspaceId: string, needle: string) => Promise<AssetUsage[]>;

const noControl = /^\P{Cc}*$/u;

export const assetName = z.string().trim().min(1).max(200).regex(noControl, 'no control characters');
export const assetAlt = z.string().max(1000).regex(noControl, 'no control characters');
/** "" means no folder; "/" separates levels ("newsletters/2026"). */
export const assetFolder = z.string().trim().max(200).regex(noControl, 'no control characters')
  .transform((f) => f.replace(/^\/+|\/+$/g, ''))
  .nullable();
export const assetTag = z.string().trim().min(1).max(50).regex(/^[^,\p{Cc}]*$/u, 'no commas or control characters');
export const assetTags = z.array(assetTag).max(30)
  .transform((tags) => [...new Set(tags)]);

export const assetMetaSchema = z.object({
  name: assetName.optional(),
  alt: assetAlt.optional(),
  folder: assetFolder.optional(),
  tags: assetTags.optional(),
}).strict();

/** `tags` as a form sends them: repeated fields and/or comma-separated lists. */
export function splitTags(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
}
