// Resized copies of raster images, in the original's format. Animated GIF and WebP keep every frame.
import { lazy } from '../../lazy.ts';
import type { AssetContentType } from './types.ts';

export const loadSharp = lazy(() => import('sharp').then((m) => m.default));

export async function resize(data: Buffer, contentType: Exclude<AssetContentType, 'image/svg+xml'>, width: number): Promise<Buffer> {
  const animated = contentType === 'image/gif' || contentType === 'image/webp';
  const sharp = await loadSharp();
  const img = sharp(data, { animated }).autoOrient().resize({ width, withoutEnlargement: true });
  switch (contentType) {
    case 'image/png': return img.png().toBuffer();
    case 'image/jpeg': return img.jpeg({ quality: 85, mozjpeg: true }).toBuffer();
    case 'image/gif': return img.gif().toBuffer();
    case 'image/webp': return img.webp({ quality: 85 }).toBuffer();
  }
}
