// The public file URLs: headers, conditional requests, HEAD, variants (never upscaled), 404s, SVG policy.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { encodeForm, form, makeImage, type ImageFormat } from '../../../test/helpers/images.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

interface View { id: string; url: string; hash: string; width: number; height: number; contentType: string }

describe('assets: public files', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('Serve');
  });
  afterAll(async () => { await t.close(); });

  async function upload(data: Buffer | string, filename = 'f'): Promise<View> {
    const { payload, headers } = await encodeForm(form({ data, filename }));
    const res = await t.app.inject({ method: 'POST', url: '/api/assets', payload, headers: { ...headers, authorization: bearer(ws.appApiKey) } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<View>();
  }
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });
  const pathOf = (v: View) => new URL(v.url).pathname;

  it('serves the file with immutable caching, its hash as ETag, nosniff, and 304 for a matching If-None-Match', async () => {
    const data = await makeImage('png', 50, 40, 1);
    const a = await upload(data);
    const res = await get(pathOf(a));
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'image/png', 'cache-control': 'public, max-age=31536000, immutable',
      etag: `"${a.hash}"`, 'x-content-type-options': 'nosniff', 'content-length': String(data.length),
    });
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.rawPayload.equals(data)).toBe(true);
    const again = await get(pathOf(a), { 'if-none-match': `"other", "${a.hash}"` });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    expect(again.headers.etag).toBe(`"${a.hash}"`);
    // Anyone may fetch it: no key needed.
    const head = await t.app.inject({ method: 'HEAD', url: pathOf(a) });
    expect(head.statusCode).toBe(200);
    expect(head.headers).toMatchObject({ 'content-type': 'image/png', etag: `"${a.hash}"`, 'cache-control': 'public, max-age=31536000, immutable' });
    expect(head.rawPayload.length).toBe(0);
  });

  it('answers 404 asset.not_found for an unknown hash, a wrong extension or a malformed name', async () => {
    const a = await upload(await makeImage('jpeg', 20, 20, 2));
    for (const url of [
      `/assets/${'0'.repeat(64)}.jpg`, `/assets/${a.hash}.png`, `/assets/${a.hash}.jpeg`, `/assets/${a.hash}`,
      `/assets/${a.hash.toUpperCase()}.jpg`, '/assets/..%2F..%2Fetc%2Fpasswd', `/assets/${a.hash}.jpg.png`,
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ error: { code: 'asset.not_found' } });
    }
  });

  it('makes resized variants once, in the original format, with the same caching; never upscales', async () => {
    const formats: ImageFormat[] = ['png', 'jpeg', 'gif', 'webp'];
    for (const [i, format] of formats.entries()) {
      const original = await makeImage(format, 1000, 500, 10 + i);
      const a = await upload(original);
      const res = await get(`${pathOf(a)}?w=600`);
      expect(res.statusCode, format).toBe(200);
      expect(res.headers).toMatchObject({
        'content-type': a.contentType, 'cache-control': 'public, max-age=31536000, immutable', etag: `"${a.hash}_w600"`,
        'x-content-type-options': 'nosniff',
      });
      const meta = await sharp(res.rawPayload).metadata();
      expect([meta.format, meta.width, meta.height], format).toEqual([format, 600, 300]);
      // Stored in the blob store under hash + width, and served from there the next time.
      const stored = await t.services.db.selectFrom('asset_blob_data').select('data').where('key', '=', `${a.hash}_w600`).executeTakeFirstOrThrow();
      expect(stored.data.equals(res.rawPayload)).toBe(true);
      expect((await get(`${pathOf(a)}?w=600`)).rawPayload.equals(res.rawPayload)).toBe(true);

      // Wider than the original: the original itself.
      for (const w of [1200, 2000]) {
        const big = await get(`${pathOf(a)}?w=${w}`);
        expect(big.rawPayload.equals(original), `${format} w=${w}`).toBe(true);
        expect(big.headers.etag).toBe(`"${a.hash}"`);
      }
    }
    const count = await t.services.db.selectFrom('asset_blob_data').select((eb) => eb.fn.countAll<string>().as('n')).where('key', 'like', '%_w%').executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(4);
  });

  it('keeps animation frames in GIF variants', async () => {
    const frame = (background: string) => sharp({ create: { width: 400, height: 200, channels: 4, background } }).png().toBuffer();
    const animated = await sharp([await frame('#f00'), await frame('#00f')], { join: { animated: true } }).gif({ loop: 0 }).toBuffer();
    const a = await upload(animated);
    expect(a).toMatchObject({ contentType: 'image/gif', width: 400, height: 200 });
    const res = await get(`${pathOf(a)}?w=200`);
    const meta = await sharp(res.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height, meta.pages]).toEqual(['gif', 200, 100, 2]);
  });

  it('refuses widths outside the list with 400 asset.bad_width (field w)', async () => {
    const a = await upload(await makeImage('png', 300, 300, 30));
    for (const w of ['123', '0', '-100', 'abc', '600.5', '', '99999999']) {
      const res = await get(`${pathOf(a)}?w=${w}`);
      expect(res.statusCode, w).toBe(400);
      expect(res.json(), w).toMatchObject({ error: { code: 'asset.bad_width', field: 'w' } });
    }
  });

  it('stores SVG sanitized and serves it with a sandboxing Content-Security-Policy', async () => {
    const evil = `<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY lol "lol">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="50" onload="alert('onload')">
  <script>alert('script')</script>
  <foreignObject width="100" height="50"><div xmlns="http://www.w3.org/1999/xhtml" onclick="alert('fo')">html</div></foreignObject>
  <a href="javascript:alert('a')"><rect id="r" width="10" height="10" onmouseover="alert('hover')"/></a>
  <use xlink:href="https://evil.example/sprite.svg#icon"/>
  <use href="#r" x="20"/>
  <image href="https://evil.example/track.png" width="1" height="1"/>
  <style>@import url("https://evil.example/x.css"); rect { fill: #123456 }</style>
  <circle cx="50" cy="25" r="10" fill="url(https://evil.example/p#x)" style="stroke: url(https://evil.example/s)"/>
</svg>`;
    const a = await upload(evil, 'evil.svg');
    expect(a).toMatchObject({ contentType: 'image/svg+xml', width: 100, height: 50 });
    const res = await get(pathOf(a));
    expect(res.headers).toMatchObject({
      'content-type': 'image/svg+xml',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      'x-content-type-options': 'nosniff',
    });
    const stored = res.body;
    for (const bad of ['<script', 'alert', 'onload', 'onclick', 'onmouseover', 'foreignObject', 'javascript:', 'evil.example', '@import', '<!DOCTYPE', '<image', '<a ']) {
      expect(stored, bad).not.toContain(bad);
    }
    expect(stored).toContain('<use href="#r" x="20">');
    expect(stored).toContain('rect { fill: #123456 }');
    expect(stored).toContain('<circle cx="50" cy="25" r="10">');
    // The hash is of the sanitized bytes that are served.
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(res.rawPayload).digest('hex')).toBe(a.hash);
    // SVG variants are the SVG itself.
    expect((await get(`${pathOf(a)}?w=100`)).rawPayload.equals(res.rawPayload)).toBe(true);
  });
});
