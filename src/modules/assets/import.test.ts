// Import from a URL: through the SSRF-guarded client, with the asset size cap, and refused by default
// for loopback, private and link-local addresses (also behind a redirect), with nothing reaching them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { makeImage } from '../../../test/helpers/images.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

interface Server { url: string; port: number; connections: number; requests: string[]; close(): Promise<void> }

async function serve(host: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Server> {
  const server = http.createServer(handler);
  const s: Server = { url: '', port: 0, connections: 0, requests: [], close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }) };
  server.on('connection', () => { s.connections++; });
  server.on('request', (req: http.IncomingMessage) => { s.requests.push(req.url ?? ''); });
  await new Promise<void>((ok) => server.listen(0, host, ok));
  s.port = (server.address() as AddressInfo).port;
  s.url = `http://${host}:${s.port}`;
  return s;
}

async function importUrl(t: TestTandem, ws: CreatedWorkspace, body: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: '/api/assets/import', headers: { authorization: bearer(ws.appApiKey) }, payload: body });
}

describe('assets: import from a URL (private addresses allowed by config)', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let images: Server;
  let png: Buffer;
  beforeAll(async () => {
    png = await makeImage('png', 30, 20, 5);
    const big = Buffer.concat([png, Buffer.alloc(60_000)]);
    images = await serve('127.0.0.1', (req, res) => {
      switch (req.url ?? '') {
        case '/img/logo%20v2.png': res.writeHead(200, { 'content-type': 'image/png' }).end(png); break;
        case '/moved': res.writeHead(302, { location: '/img/logo%20v2.png' }).end(); break;
        case '/page': res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not an image</html>'); break;
        case '/big.png': res.writeHead(200, { 'content-type': 'image/png' }).end(big); break;
        default: res.writeHead(404).end('nope');
      }
    });
    t = await createTestTandem({ config: { outboundAllowPrivate: true, assetMaxBytes: 50_000 } });
    ws = await t.workspace('Import');
  });
  afterAll(async () => {
    await t.close();
    await images.close();
  });

  it('copies the image into the library with its source URL, following redirects', async () => {
    const res = await importUrl(t, ws, { url: `${images.url}/moved`, alt: 'Logo', folder: 'imported', tags: ['brand'] });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'logo v2.png', contentType: 'image/png', width: 30, height: 20, bytes: png.length,
      alt: 'Logo', folder: 'imported', tags: ['brand'], sourceUrl: `${images.url}/moved`,
    });
    const served = await t.app.inject({ method: 'GET', url: new URL(res.json<{ url: string }>().url).pathname });
    expect(served.rawPayload.equals(png)).toBe(true);
    const again = await importUrl(t, ws, { url: `${images.url}/img/logo%20v2.png`, name: 'Other name' });
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: string }>().id).toBe(res.json<{ id: string }>().id);
  });

  it('answers a non-2xx with 422 asset.import_failed and the status', async () => {
    const res = await importUrl(t, ws, { url: `${images.url}/missing.png` });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: { code: 'asset.import_failed', field: 'url', message: expect.stringContaining('404') as unknown } });
  });

  it('refuses what is not an image (whatever its content type says) and what is over the cap', async () => {
    const html = await importUrl(t, ws, { url: `${images.url}/page` });
    expect(html.statusCode).toBe(415);
    expect(html.json()).toMatchObject({ error: { code: 'asset.unsupported_type', field: 'url' } });
    const big = await importUrl(t, ws, { url: `${images.url}/big.png` });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: { code: 'asset.too_large', field: 'url' } });
    const ftp = await importUrl(t, ws, { url: 'ftp://example.com/a.png' });
    expect(ftp.statusCode).toBe(400);
    expect(ftp.json()).toMatchObject({ error: { code: 'net.bad_url', field: 'url' } });
    expect(await t.services.db.selectFrom('assets').select('source_url').execute()).toEqual([{ source_url: `${images.url}/moved` }]);
  });
});

describe('assets: import refuses private addresses by default', () => {
  let canary: Server;
  let redirector: Server;
  beforeAll(async () => {
    canary = await serve('127.0.0.1', (_req, res) => { res.writeHead(200, { 'content-type': 'image/png' }).end(); });
    // 127.0.0.2 is loopback too; the test allows just that one address, so the redirect's target
    // (127.0.0.1) is judged by the default rule.
    redirector = await serve('127.0.0.2', (_req, res) => {
      res.writeHead(302, { location: `${canary.url}/pixel.png` }).end();
    });
  });
  afterAll(async () => {
    await canary.close();
    await redirector.close();
  });

  it('refuses loopback, private and link-local addresses in every spelling; nothing reaches the canary', async () => {
    const t = await createTestTandem();
    try {
      const ws = await t.workspace('Default');
      expect(t.services.config.outboundAllowPrivate).toBe(false);
      const p = canary.port;
      const corpus = [
        `${canary.url}/pixel.png`, `http://localhost:${p}/pixel.png`, `http://[::1]:${p}/`, `http://2130706433:${p}/`,
        `http://0x7f.1:${p}/`, `http://0177.0.0.1:${p}/`, `http://127.1:${p}/`, `http://[::ffff:127.0.0.1]:${p}/`,
        `http://0.0.0.0:${p}/`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/a.png', 'http://192.168.1.1/a.png',
        'http://[fe80::1]/a.png', `http://[::ffff:7f00:1]:${p}/`,
      ];
      for (const url of corpus) {
        const res = await importUrl(t, ws, { url });
        expect(res.statusCode, url).toBe(400);
        expect(res.json(), url).toMatchObject({ error: { code: 'net.forbidden_address', field: 'url' } });
      }
      expect(canary.connections).toBe(0);
      expect(await t.services.db.selectFrom('assets').select('id').execute()).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('refuses a redirect from an allowed server to 127.0.0.1 before connecting to it', async () => {
    const t = await createTestTandem({ config: { outboundAllowPrivate: ['127.0.0.2/32'] } });
    try {
      const ws = await t.workspace('Redirect');
      const res = await importUrl(t, ws, { url: `${redirector.url}/go` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'net.forbidden_address', field: 'url' } });
      expect(redirector.requests).toEqual(['/go']);
      expect(canary.connections).toBe(0);
    } finally {
      await t.close();
    }
  });
});
