// One interface for where asset bytes live; three implementations chosen by TANDEM_ASSET_STORE.
import type { AssetStoreConfig } from '../../../config.ts';
import type { Db } from '../../../db/pool.ts';
import { createDirStore } from './dir.ts';
import { createPostgresStore } from './postgres.ts';
import { createS3Store } from './s3.ts';

/**
 * Keys are content addresses: `<sha256 hex>` for an original, `<sha256 hex>_w<width>` for a variant.
 * The bytes under a key never change, so writers may skip a key that exists.
 */
export interface BlobStore {
  readonly kind: AssetStoreConfig['kind'];
  /** Stores the bytes under the key (a no-op when the key already exists). */
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** The bytes, or undefined when the key is not stored. */
  get(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  /** Removes the key (a no-op when it is not stored). */
  delete(key: string): Promise<void>;
}

export const BLOB_KEY = /^[0-9a-f]{64}(_w\d{1,5})?$/;

/** Keys come from hashes Tandem computed; anything else is a bug, refused before it reaches a path or URL. */
export function checkKey(key: string): string {
  if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  return key;
}

export function createBlobStore(config: AssetStoreConfig, db: Db): BlobStore {
  switch (config.kind) {
    case 'postgres': return createPostgresStore(db);
    case 'dir': return createDirStore(config.path);
    case 's3': return createS3Store(config);
  }
}
