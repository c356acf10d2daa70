// What a file is, judged from its bytes alone (the client's content type and file name are ignored),
// and the bytes to store: raster images as they came, SVG sanitized.
import type { Metadata } from 'sharp';
import { AppError } from '../../errors.ts';
import { loadSharp } from './variants.ts';
import { looksLikeSvg, sanitizeSvg, viewBoxSize } from './svg.ts';
import type { AssetContentType } from './types.ts';

export interface DetectedImage {
  contentType: AssetContentType;
  /** The bytes to store (for SVG: the sanitized document). */
  data: Buffer;
  width: number | null;
  height: number | null;
}

const SHARP_FORMATS: Record<string, AssetContentType> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

/** The raster type the magic number announces, if any. */
function magic(b: Buffer): AssetContentType | undefined {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

function unsupported(field: string, message?: string): AppError {
  return new AppError('asset.unsupported_type', message, { field });
}

/** Throws asset.unsupported_type (with `field`) for anything but a readable PNG, JPEG, GIF, WebP or SVG. */
export async function detectImage(bytes: Buffer, field = 'file'): Promise<DetectedImage> {
  const raster = magic(bytes);
  if (raster) {
    let meta: Metadata;
    try {
      meta = await (await loadSharp())(bytes).metadata();
    } catch {
      throw unsupported(field, 'The file starts like an image but could not be read.');
    }
    if (SHARP_FORMATS[meta.format] !== raster || !meta.width || !meta.height) {
      throw unsupported(field, 'The file starts like an image but could not be read.');
    }
    // EXIF orientation: the size as the image is shown.
    const shown = meta.autoOrient;
    return { contentType: raster, data: bytes, width: shown.width, height: shown.height };
  }
  const svgText = looksLikeSvg(bytes);
  if (svgText !== undefined) {
    const clean = sanitizeSvg(svgText);
    if (clean === undefined) throw unsupported(field, 'The SVG has no <svg> root element.');
    const data = Buffer.from(clean, 'utf8');
    // Only the sanitized document reaches the renderer (no DOCTYPE, no entities, no external refs).
    let size: { width: number; height: number } | undefined;
    try {
      const meta = await (await loadSharp())(data).metadata();
      if (meta.format !== 'svg') throw new Error('not read as SVG');
      if (meta.width && meta.height) size = { width: meta.width, height: meta.height };
    } catch {
      throw unsupported(field, 'The SVG is not a well-formed SVG document.');
    }
    size ??= viewBoxSize(clean);
    return { contentType: 'image/svg+xml', data, width: size?.width ?? null, height: size?.height ?? null };
  }
  throw unsupported(field);
}
