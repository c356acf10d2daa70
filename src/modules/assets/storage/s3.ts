// An S3-compatible bucket (AWS S3, MinIO, R2, ...): path-style object URLs, SigV4-signed with aws4.
// The endpoint is the operator's, not a user's, so requests go straight out (not through src/net).
import aws4 from 'aws4';
import { request } from 'undici';
import type { AssetStoreConfig } from '../../../config.ts';
import { checkKey, type BlobStore } from './store.ts';

type S3Config = Extract<AssetStoreConfig, { kind: 's3' }>;

export class S3Error extends Error {
  constructor(readonly method: string, readonly key: string, readonly status: number, body: string) {
    super(`S3 ${method} ${key} answered ${status}: ${body.slice(0, 300)}`);
    this.name = 'S3Error';
  }
}

export function createS3Store(config: S3Config): BlobStore {
  const endpoint = new URL(config.endpoint);
  const prefix = endpoint.pathname.replace(/\/+$/, '');
  const credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };

  async function send(method: 'GET' | 'PUT' | 'HEAD' | 'DELETE', key: string, body?: Buffer, contentType?: string) {
    const path = `${prefix}/${encodeURIComponent(config.bucket)}/${checkKey(key)}`;
    const signed = aws4.sign({
      host: endpoint.host, path, method, service: 's3', region: config.region,
      headers: contentType ? { 'content-type': contentType } : {},
      ...(body ? { body } : {}),
    }, credentials);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers ?? {})) {
      if (value !== undefined) headers[name.toLowerCase()] = String(value);
    }
    return request(new URL(path, endpoint), {
      method, headers, ...(body ? { body } : {}), headersTimeout: 30_000, bodyTimeout: 30_000,
    });
  }

  async function fail(method: string, key: string, res: Awaited<ReturnType<typeof send>>): Promise<never> {
    throw new S3Error(method, key, res.statusCode, await res.body.text().catch(() => ''));
  }

  async function has(key: string): Promise<boolean> {
    const res = await send('HEAD', key);
    if (res.statusCode !== 404 && (res.statusCode < 200 || res.statusCode >= 300)) return fail('HEAD', key, res);
    await res.body.dump();
    return res.statusCode !== 404;
  }

  return {
    kind: 's3',
    has,
    async put(key, data, contentType) {
      if (await has(key)) return;
      const res = await send('PUT', key, data, contentType);
      if (res.statusCode < 200 || res.statusCode >= 300) return fail('PUT', key, res);
      await res.body.dump();
    },
    async get(key) {
      const res = await send('GET', key);
      if (res.statusCode === 404) {
        await res.body.dump();
        return undefined;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) return fail('GET', key, res);
      return Buffer.from(await res.body.arrayBuffer());
    },
    async delete(key) {
      const res = await send('DELETE', key);
      if ((res.statusCode < 200 || res.statusCode >= 300) && res.statusCode !== 404) return fail('DELETE', key, res);
      await res.body.dump();
    },
  };
}
