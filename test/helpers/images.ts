// Real image files for asset tests, made with sharp, plus a multipart form builder for uploads.
import sharp from 'sharp';

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** A width x height image in the format; `seed` changes the colour (and so the bytes). */
export async function makeImage(format: ImageFormat, width = 40, height = 30, seed = 0): Promise<Buffer> {
  const background = { r: (seed * 53) % 256, g: (seed * 97 + 80) % 256, b: 200, alpha: 1 };
  const img = sharp({ create: { width, height, channels: 4, background } });
  switch (format) {
    case 'png': return img.png().toBuffer();
    case 'jpeg': return img.jpeg().toBuffer();
    case 'gif': return img.gif().toBuffer();
    case 'webp': return img.webp().toBuffer();
  }
}

export const SIMPLE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60"><rect width="120" height="60" fill="#336699"/></svg>';

/** A multipart/form-data body: a `file` part plus text fields (an array value repeats the field). */
export function form(file: { data: Buffer | string; filename?: string; contentType?: string } | undefined, fields: Record<string, string | string[]> = {}): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) fd.append(k, one);
  if (file) {
    const bytes = typeof file.data === 'string' ? Buffer.from(file.data) : file.data;
    fd.append('file', new Blob([new Uint8Array(bytes)], { type: file.contentType ?? 'application/octet-stream' }), file.filename ?? 'upload.bin');
  }
  return fd;
}

/** A FormData body as inject() takes it: the encoded bytes and their content type. */
export async function encodeForm(fd: FormData): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const res = new Response(fd);
  return { payload: Buffer.from(await res.arrayBuffer()), headers: { 'content-type': res.headers.get('content-type') ?? '' } };
}
