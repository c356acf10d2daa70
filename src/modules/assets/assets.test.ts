// Upload, dedupe, the library API (filters, folders, pagination, changes, delete) and workspace isolation.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { encodeForm, form, makeImage, SIMPLE_SVG, type ImageFormat } from '../../../test/helpers/images.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { createAssetService } from './service.ts';
import type { AssetUsage } from './types.ts';

interface View {
  id: string; name: string; url: string; hash: string; contentType: string; bytes: number;
  width: number | null; height: number | null; alt: string; folder: string | null; tags: string[];
  sourceUrl: string | null; createdAt: string; updatedAt: string;
}

describe('assets: upload and library', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ config: { publicUrl: 'https://cdn.example.test' } });
    ws = await t.workspace('Assets');
  });
  afterAll(async () => { await t.close(); });

  async function upload(fd: FormData, key = ws.appApiKey) {
    const { payload, headers } = await encodeForm(fd);
    return t.app.inject({ method: 'POST', url: '/api/assets', payload, headers: { ...headers, authorization: bearer(key) } });
  }
  const call = (method: 'GET' | 'PATCH' | 'DELETE', url: string, payload?: unknown, key = ws.appApiKey) =>
    t.app.inject({ method, url, headers: { authorization: bearer(key) }, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('accepts PNG, JPEG, GIF, WebP and SVG, judged from the bytes, with their sizes', async () => {
    const cases: Array<[ImageFormat | 'svg', string, string]> = [
      ['png', 'image/png', 'png'], ['jpeg', 'image/jpeg', 'jpg'], ['gif', 'image/gif', 'gif'], ['webp', 'image/webp', 'webp'],
      ['svg', 'image/svg+xml', 'svg'],
    ];
    for (const [format, type, ext] of cases) {
      const data = format === 'svg' ? Buffer.from(SIMPLE_SVG) : await makeImage(format, 64, 48, 1);
      // The client's content type and file name say nothing true; only the bytes count.
      const res = await upload(form({ data, filename: `picture-${format}.bin`, contentType: 'text/plain' }));
      expect(res.statusCode, res.body).toBe(201);
      const a = res.json<View>();
      expect(a).toMatchObject({
        name: `picture-${format}.bin`, contentType: type, alt: '', folder: null, tags: [], sourceUrl: null,
        width: format === 'svg' ? 120 : 64, height: format === 'svg' ? 60 : 48,
      });
      expect(a.id).toMatch(/^ast_[0-9a-f]{20}$/);
      expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(a.url).toBe(`https://cdn.example.test/assets/${a.hash}.${ext}`);
      const served = await t.app.inject({ method: 'GET', url: `/assets/${a.hash}.${ext}` });
      expect(served.statusCode).toBe(200);
      expect(served.headers['content-type']).toBe(type);
      expect(a.bytes).toBe(served.rawPayload.length);
      if (format !== 'svg') expect(served.rawPayload.equals(data)).toBe(true);
    }
  });

  it('takes the size of an SVG without width/height from its viewBox', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"><circle cx="5" cy="5" r="4"/></svg>';
    const a = (await upload(form({ data: svg, filename: 'logo.svg' }))).json<View>();
    expect(a).toMatchObject({ contentType: 'image/svg+xml', width: 300, height: 150 });
  });

  it('refuses what is not one of the five image types, whatever the client claims', async () => {
    const fakes: Array<[string | Buffer, string, string]> = [
      ['just text', 'a.png', 'image/png'],
      ['<html><body><svg></svg></body></html>', 'a.svg', 'image/svg+xml'],
      [Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png')]), 'a.png', 'image/png'],
      [await (await import('sharp')).default({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).tiff().toBuffer(), 'a.tiff', 'image/tiff'],
      ['%PDF-1.4\n%âãÏÓ', 'a.pdf', 'application/pdf'],
      [Buffer.alloc(0), 'empty.png', 'image/png'],
    ];
    for (const [data, filename, contentType] of fakes) {
      const res = await upload(form({ data, filename, contentType }));
      expect(res.statusCode, filename).toBe(415);
      expect(res.json(), filename).toMatchObject({ error: { code: 'asset.unsupported_type', field: 'file' } });
    }
    const none = await upload(form(undefined, { name: 'no file' }));
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ error: { code: 'request.invalid', field: 'file' } });
    const json = await t.app.inject({ method: 'POST', url: '/api/assets', headers: { authorization: bearer(ws.appApiKey) }, payload: { name: 'x' } });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ error: { code: 'request.unsupported_media_type', field: 'content-type' } });
  });

  it('returns the existing asset for the same bytes in the same workspace, and shares the file across workspaces', async () => {
    const data = await makeImage('png', 20, 20, 7);
    const first = await upload(form({ data, filename: 'one.png' }, { name: 'First' }));
    expect(first.statusCode).toBe(201);
    const again = await upload(form({ data, filename: 'two.png' }, { name: 'Second' }));
    expect(again.statusCode).toBe(200);
    expect(again.json<View>()).toEqual(first.json<View>());

    const other = await t.workspace('Other');
    const theirs = await upload(form({ data, filename: 'one.png' }), other.appApiKey);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json<View>().hash).toBe(first.json<View>().hash);
    expect(theirs.json<View>().id).not.toBe(first.json<View>().id);
    const blobs = await t.services.db.selectFrom('asset_blobs').select('hash').where('hash', '=', first.json<View>().hash).execute();
    expect(blobs).toHaveLength(1);
  });

  it('keeps name, alt, folder and tags (comma-separated or repeated), and validates them', async () => {
    const res = await upload(form({ data: await makeImage('png', 10, 10, 20), filename: 'x.png' }, {
      name: 'Hero', alt: 'A hero image', folder: '/newsletters/2026/', tags: ['spring, hero', 'sale', 'hero'],
    }));
    expect(res.statusCode).toBe(201);
    expect(res.json<View>()).toMatchObject({ name: 'Hero', alt: 'A hero image', folder: 'newsletters/2026', tags: ['spring', 'hero', 'sale'] });
    const bad = await upload(form({ data: await makeImage('png', 10, 10, 21) }, { tags: 'x'.repeat(51) }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'request.invalid', field: 'tags' } });
    const badName = await upload(form({ data: await makeImage('png', 10, 10, 22) }, { name: 'a\u0001b' }));
    expect(badName.json()).toMatchObject({ error: { code: 'request.invalid', field: 'name' } });
  });

  it('lists newest first with filters by folder, tag and name, a page at a time, and counts folders', async () => {
    const lib = await t.workspace('Library');
    const made: View[] = [];
    const specs = [
      { name: 'Summer banner', folder: 'campaigns', tags: 'summer,banner' },
      { name: 'Winter banner', folder: 'campaigns', tags: 'winter,banner' },
      { name: 'Logo', folder: 'brand', tags: 'logo' },
      { name: 'Footer 100%_off', folder: '', tags: '' },
    ];
    for (const [i, s] of specs.entries()) {
      const res = await upload(form({ data: await makeImage('png', 12, 12, 100 + i) }, s), lib.appApiKey);
      expect(res.statusCode).toBe(201);
      made.push(res.json<View>());
    }
    const list = async (qs: string) => (await call('GET', `/api/assets${qs}`, undefined, lib.appApiKey)).json<{ assets: View[]; nextCursor: string | null }>();
    expect((await list('')).assets.map((a) => a.name)).toEqual(['Footer 100%_off', 'Logo', 'Winter banner', 'Summer banner']);
    expect((await list('?folder=campaigns')).assets.map((a) => a.name)).toEqual(['Winter banner', 'Summer banner']);
    expect((await list('?folder=')).assets.map((a) => a.name)).toEqual(['Footer 100%_off']);
    expect((await list('?tag=banner&q=WIN')).assets.map((a) => a.name)).toEqual(['Winter banner']);
    // % and _ are letters in q, not wildcards.
    expect((await list('?q=100%25_')).assets.map((a) => a.name)).toEqual(['Footer 100%_off']);
    expect((await list('?q=0%25')).assets.map((a) => a.name)).toEqual(['Footer 100%_off']);
    expect((await list('?q=%25%25')).assets).toEqual([]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { assets: View[]; nextCursor: string | null } = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.assets.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse().map((a) => a.id));
    const badCursor = await call('GET', '/api/assets?cursor=nope', undefined, lib.appApiKey);
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ error: { code: 'request.invalid', field: 'cursor' } });

    const folders = (await call('GET', '/api/assets/folders', undefined, lib.appApiKey)).json<{ folders: unknown[] }>();
    expect(folders.folders).toEqual([{ folder: 'brand', count: 1 }, { folder: 'campaigns', count: 2 }, { folder: null, count: 1 }]);
  });

  it('changes name, alt, folder and tags; the file and its URL stay', async () => {
    const a = (await upload(form({ data: await makeImage('jpeg', 30, 30, 40) }, { name: 'Before' }))).json<View>();
    const res = await call('PATCH', `/api/assets/${a.id}`, { name: 'After', alt: 'New alt', folder: 'moved', tags: ['x', 'x', 'y'] });
    expect(res.statusCode).toBe(200);
    expect(res.json<View>()).toMatchObject({ id: a.id, url: a.url, hash: a.hash, name: 'After', alt: 'New alt', folder: 'moved', tags: ['x', 'y'] });
    const cleared = await call('PATCH', `/api/assets/${a.id}`, { folder: null });
    expect(cleared.json<View>()).toMatchObject({ folder: null, name: 'After' });
    const bad = await call('PATCH', `/api/assets/${a.id}`, { name: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'request.invalid', field: 'name' } });
    const unknownField = await call('PATCH', `/api/assets/${a.id}`, { hash: 'x' });
    expect(unknownField.statusCode).toBe(400);
    expect((await call('GET', `/api/assets/${a.id}`)).json<View>()).toMatchObject({ name: 'After', folder: null });
  });

  it('keeps workspaces apart: another workspace\'s asset id is not found', async () => {
    const other = await t.workspace('Isolated');
    const theirs = (await upload(form({ data: await makeImage('png', 9, 9, 50) }, { name: 'Theirs' }), other.appApiKey)).json<View>();
    for (const [method, url, body] of [
      ['GET', `/api/assets/${theirs.id}`], ['GET', `/api/assets/${theirs.id}/usage`],
      ['PATCH', `/api/assets/${theirs.id}`, { name: 'Mine now' }], ['DELETE', `/api/assets/${theirs.id}?force=true`],
    ] as const) {
      const res = await call(method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json(), `${method} ${url}`).toMatchObject({ error: { code: 'asset.not_found', field: 'id' } });
    }
    expect((await call('GET', '/api/assets?q=Theirs')).json()).toEqual({ assets: [], nextCursor: null });
    expect((await call('GET', `/api/assets/${theirs.id}`, undefined, other.appApiKey)).json<View>().name).toBe('Theirs');
  });

  it('deletes an asset; the file stays while another workspace has it and goes with the last one', async () => {
    const data = await makeImage('webp', 16, 16, 60);
    const mine = (await upload(form({ data }))).json<View>();
    const other = await t.workspace('Sharer');
    const theirs = (await upload(form({ data }), other.appApiKey)).json<View>();
    const path = `/assets/${mine.hash}.webp`;

    expect((await call('DELETE', `/api/assets/${mine.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/assets/${mine.id}`)).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: path })).statusCode).toBe(200);

    expect((await call('DELETE', `/api/assets/${theirs.id}`, undefined, other.appApiKey)).statusCode).toBe(204);
    const gone = await t.app.inject({ method: 'GET', url: path });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ error: { code: 'asset.not_found' } });
    expect(await t.services.db.selectFrom('asset_blob_data').select('key').where('key', '=', mine.hash).execute()).toEqual([]);

    // Uploading the same bytes again brings the file back.
    const back = await upload(form({ data }));
    expect(back.statusCode).toBe(201);
    expect((await t.app.inject({ method: 'GET', url: path })).rawPayload.equals(data)).toBe(true);
  });

  it('refuses to delete an asset that templates use unless forced, and reports where it is used', async () => {
    const seen: string[] = [];
    const uses: AssetUsage[] = [{ kind: 'template', id: 'tpl_1', name: 'welcome' }];
    const assets = createAssetService({
      db: t.services.db, clock: t.clock, log: t.services.log, config: t.services.config,
      usage: (workspaceId, needle) => { seen.push(`${workspaceId} ${needle}`); return Promise.resolve(uses); },
    });
    const { asset } = await assets.upload(ws.workspaceId, await makeImage('png', 8, 8, 70), { name: 'Used' });
    expect(await assets.usage(ws.workspaceId, asset.id)).toEqual(uses);
    expect(seen).toEqual([`${ws.workspaceId} /assets/${asset.hash}`]);
    await expect(assets.delete(ws.workspaceId, asset.id)).rejects.toMatchObject({ code: 'asset.in_use', field: 'id' });
    expect((await assets.get(ws.workspaceId, asset.id)).id).toBe(asset.id);
    await assets.delete(ws.workspaceId, asset.id, { force: true });
    await expect(assets.get(ws.workspaceId, asset.id)).rejects.toMatchObject({ code: 'asset.not_found' });
  });

  it('finds templates that use the asset over HTTP, refuses their asset\'s delete with 409, and deletes with force', async () => {
    const a = (await upload(form({ data: await makeImage('png', 8, 8, 80) }))).json<View>();
    expect((await call('GET', `/api/assets/${a.id}/usage`)).json()).toEqual({ usage: [] });
    const tpl = await t.services.content.create(ws.workspaceId, 'template', 'uses-image', {
      channel: 'email', marketing: false, email: { subject: 'Hi', code: { html: `<img src="${a.url}?w=600" alt="">` } },
    });
    const usage = await call('GET', `/api/assets/${a.id}/usage`);
    expect(usage.json()).toEqual({ usage: [{ kind: 'template', id: tpl.id, name: 'uses-image' }] });
    const refused = await call('DELETE', `/api/assets/${a.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: { code: 'asset.in_use', field: 'id', message: expect.stringContaining('uses-image') as unknown } });
    expect((await call('GET', `/api/assets/${a.id}`)).statusCode).toBe(200);
    expect((await call('DELETE', `/api/assets/${a.id}?force=true`)).statusCode).toBe(204);
    expect((await call('GET', `/api/assets/${a.id}`)).statusCode).toBe(404);
  });
});

describe('assets: size limit', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ config: { assetMaxBytes: 20_000 } });
    ws = await t.workspace('Small');
  });
  afterAll(async () => { await t.close(); });

  it('refuses a file over TANDEM_ASSET_MAX_BYTES with 413 asset.too_large, and takes one under it', async () => {
    const sharp = (await import('sharp')).default;
    // Noise does not compress: a 200x200 RGB PNG of noise is well over 20 kB.
    const noise = randomBytes(200 * 200 * 3);
    const big = await sharp(noise, { raw: { width: 200, height: 200, channels: 3 } }).png().toBuffer();
    expect(big.length).toBeGreaterThan(20_000);
    const { payload, headers } = await encodeForm(form({ data: big, filename: 'big.png' }));
    const res = await t.app.inject({ method: 'POST', url: '/api/assets', payload, headers: { ...headers, authorization: bearer(ws.appApiKey) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'asset.too_large', field: 'file' } });
    expect(await t.services.db.selectFrom('assets').select('id').execute()).toEqual([]);

    const small = await encodeForm(form({ data: await makeImage('png', 10, 10), filename: 'small.png' }));
    const ok = await t.app.inject({ method: 'POST', url: '/api/assets', payload: small.payload, headers: { ...small.headers, authorization: bearer(ws.appApiKey) } });
    expect(ok.statusCode).toBe(201);
  });
});
