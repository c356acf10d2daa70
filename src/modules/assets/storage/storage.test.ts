// The blob stores: the folder store (atomic writes) and the S3 store against a local server that
// speaks the S3 object API and recomputes each request's SigV4 signature with aws4. Each store also
// runs end to end: upload through the API, then serve the file and a variant. Not tested against AWS.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import aws4 from 'aws4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem } from '../../../../test/harness.ts';
import { encodeForm, form, makeImage } from '../../../../test/helpers/images.ts';
import { ConfigError, loadConfig, type AssetStoreConfig } from '../../../config.ts';
import { createDirStore } from './dir.ts';
import { createS3Store, S3Error } from './s3.ts';
import type { BlobStore } from './store.ts';

const HASH = createHash('sha256').update('blob').digest('hex');

async function storeContract(store: BlobStore): Promise<void> {
  const data = Buffer.from('some bytes');
  expect(await store.has(HASH)).toBe(false);
  expect(await store.get(HASH)).toBeUndefined();
  await store.put(HASH, data, 'image/png');
  await store.put(HASH, data, 'image/png'); // a second put of the same key is a no-op
  expect(await store.has(HASH)).toBe(true);
  expect((await store.get(HASH))?.equals(data)).toBe(true);
  await store.put(`${HASH}_w600`, Buffer.from('variant'), 'image/png');
  expect((await store.get(`${HASH}_w600`))?.toString()).toBe('variant');
  await store.delete(HASH);
  await store.delete(HASH);
  expect(await store.has(HASH)).toBe(false);
  expect(await store.has(`${HASH}_w600`)).toBe(true);
  // Keys are hashes Tandem computed; anything else never reaches a path or a URL.
  await expect(store.put('../../etc/passwd', data, 'image/png')).rejects.toThrow(/invalid blob key/);
  await expect(store.get(`${HASH}/../x`)).rejects.toThrow(/invalid blob key/);
}

async function uploadAndServe(config: AssetStoreConfig): Promise<{ hash: string }> {
  const t = await createTestTandem({ config: { assetStore: config } });
  try {
    const ws = await t.workspace('Store');
    const png = await makeImage('png', 800, 400, 3);
    const { payload, headers } = await encodeForm(form({ data: png, filename: 'a.png' }));
    const up = await t.app.inject({ method: 'POST', url: '/api/assets', payload, headers: { ...headers, authorization: bearer(ws.appApiKey) } });
    expect(up.statusCode, up.body).toBe(201);
    const { hash } = up.json<{ hash: string }>();
    const got = await t.app.inject({ method: 'GET', url: `/assets/${hash}.png` });
    expect(got.rawPayload.equals(png)).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: `/assets/${hash}.png?w=200` })).statusCode).toBe(200);
    // Not in PostgreSQL: the configured store has the bytes.
    expect(await t.services.db.selectFrom('asset_blob_data').select('key').execute()).toEqual([]);
    return { hash };
  } finally {
    await t.close();
  }
}

describe('folder store', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(path.join(os.tmpdir(), 'tandem-assets-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('keeps the BlobStore contract and leaves no temporary files', async () => {
    const dir = path.join(root, 'contract');
    await storeContract(createDirStore(dir));
    const files = await readdir(path.join(dir, HASH.slice(0, 2)));
    expect(files).toEqual([`${HASH}_w600`]);
  });

  it('stores uploads in the folder (TANDEM_ASSET_STORE=dir:...)', async () => {
    const dir = path.join(root, 'e2e');
    const { hash } = await uploadAndServe({ kind: 'dir', path: dir });
    expect(createHash('sha256').update(await readFile(path.join(dir, hash.slice(0, 2), hash))).digest('hex')).toBe(hash);
    expect((await readdir(path.join(dir, hash.slice(0, 2)))).sort()).toEqual([hash, `${hash}_w200`]);
  });
});

interface FakeS3 { endpoint: string; objects: Map<string, { data: Buffer; type: string }>; rejected: string[]; close(): Promise<void> }

/** Path-style S3 object API (PUT/GET/HEAD/DELETE) that accepts only requests signed with `secret`. */
async function fakeS3(opts: { bucket: string; region: string; accessKeyId: string; secret: string }): Promise<FakeS3> {
  const objects = new Map<string, { data: Buffer; type: string }>();
  const rejected: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const auth = req.headers.authorization ?? '';
      const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(auth);
      const signedHeaders: Record<string, string> = {};
      for (const name of m?.[3]?.split(';') ?? []) signedHeaders[name] = String(req.headers[name] ?? '');
      // The signature as the client must have computed it, recomputed from what arrived.
      const expected = aws4.sign({
        host: req.headers.host, path: req.url, method: req.method, service: 's3', region: opts.region,
        headers: signedHeaders, ...(body.length ? { body } : {}),
      }, { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secret }).headers?.Authorization;
      const bodyHash = createHash('sha256').update(body).digest('hex');
      const ok = m && m[1] === opts.accessKeyId && m[2] === opts.region && expected === auth
        && signedHeaders['x-amz-content-sha256'] === bodyHash && signedHeaders.host !== undefined;
      if (!ok) {
        rejected.push(`${req.method} ${req.url}`);
        res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
        return;
      }
      const prefix = `/${opts.bucket}/`;
      if (!req.url?.startsWith(prefix)) {
        res.writeHead(404).end('<Error><Code>NoSuchBucket</Code></Error>');
        return;
      }
      const key = req.url.slice(prefix.length);
      const obj = objects.get(key);
      switch (req.method ?? '') {
        case 'PUT':
          objects.set(key, { data: body, type: String(req.headers['content-type']) });
          res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
          return;
        case 'GET':
        case 'HEAD':
          if (!obj) res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'GET' ? '<Error><Code>NoSuchKey</Code></Error>' : undefined);
          else res.writeHead(200, { 'content-type': obj.type, 'content-length': obj.data.length }).end(req.method === 'GET' ? obj.data : undefined);
          return;
        case 'DELETE':
          objects.delete(key);
          res.writeHead(204).end();
          return;
        default:
          res.writeHead(405).end();
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, objects, rejected,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

describe('S3 store (against a local S3-compatible server)', () => {
  const creds = { bucket: 'tandem-assets', region: 'eu-west-1', accessKeyId: 'AKIDTEST', secret: 'test-secret-key' };
  let s3: FakeS3;
  beforeAll(async () => { s3 = await fakeS3(creds); });
  afterAll(async () => { await s3.close(); });

  const config = (secretAccessKey = creds.secret): Extract<AssetStoreConfig, { kind: 's3' }> => ({
    kind: 's3', bucket: creds.bucket, endpoint: s3.endpoint, region: creds.region, accessKeyId: creds.accessKeyId, secretAccessKey,
  });

  it('keeps the BlobStore contract with SigV4-signed, path-style requests', async () => {
    await storeContract(createS3Store(config()));
    expect(s3.rejected).toEqual([]);
    expect(s3.objects.get(`${HASH}_w600`)).toMatchObject({ type: 'image/png' });
  });

  it('fails loudly when the server refuses the signature', async () => {
    const wrong = createS3Store(config('not-the-secret'));
    await expect(wrong.get(HASH)).rejects.toBeInstanceOf(S3Error);
    await expect(wrong.put(HASH, Buffer.from('x'), 'image/png')).rejects.toMatchObject({ status: 403 });
    expect(s3.rejected.length).toBeGreaterThan(0);
  });

  it('stores uploads in the bucket (TANDEM_ASSET_STORE=s3)', async () => {
    s3.rejected.length = 0;
    const { hash } = await uploadAndServe(config());
    expect(s3.objects.get(hash)?.type).toBe('image/png');
    expect(s3.objects.has(`${hash}_w200`)).toBe(true);
    expect(s3.rejected).toEqual([]);
  });
});

describe('asset configuration', () => {
  it('reads the store, the size cap and the outbound private-address policy from the environment', () => {
    const base = { LOG_LEVEL: 'silent' };
    expect(loadConfig(base)).toMatchObject({ assetStore: { kind: 'postgres' }, assetMaxBytes: 10 * 1024 * 1024, outboundAllowPrivate: false });
    expect(loadConfig({ ...base, TANDEM_ASSET_STORE: 'dir:./files', TANDEM_ASSET_MAX_BYTES: '2048' })).toMatchObject({
      assetStore: { kind: 'dir', path: path.resolve('./files') }, assetMaxBytes: 2048,
    });
    expect(loadConfig({
      ...base, TANDEM_ASSET_STORE: 's3', TANDEM_S3_BUCKET: 'b', TANDEM_S3_ENDPOINT: 'https://s3.example.com',
      TANDEM_S3_ACCESS_KEY_ID: 'k', TANDEM_S3_SECRET_ACCESS_KEY: 's',
    }).assetStore).toEqual({ kind: 's3', bucket: 'b', endpoint: 'https://s3.example.com', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' });
    expect(() => loadConfig({ ...base, TANDEM_ASSET_STORE: 's3' })).toThrow(/TANDEM_S3_BUCKET/);
    expect(() => loadConfig({ ...base, TANDEM_ASSET_STORE: 'ftp' })).toThrow(ConfigError);
    expect(loadConfig({ ...base, TANDEM_OUTBOUND_ALLOW_PRIVATE: 'true' }).outboundAllowPrivate).toBe(true);
    expect(loadConfig({ ...base, TANDEM_OUTBOUND_ALLOW_PRIVATE: '10.1.0.0/16, fd00::/8' }).outboundAllowPrivate).toEqual(['10.1.0.0/16', 'fd00::/8']);
    expect(() => loadConfig({ ...base, TANDEM_OUTBOUND_ALLOW_PRIVATE: 'intranet' })).toThrow(/TANDEM_OUTBOUND_ALLOW_PRIVATE/);
  });
});
