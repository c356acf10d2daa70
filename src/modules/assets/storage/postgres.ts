// The default store: a bytea row per key in asset_blob_data, in the same database as everything else.
import type { Db } from '../../../db/pool.ts';
import { checkKey, type BlobStore } from './store.ts';

export function createPostgresStore(db: Db): BlobStore {
  return {
    kind: 'postgres',
    async put(key, data) {
      await db.insertInto('asset_blob_data').values({ key: checkKey(key), data })
        .onConflict((oc) => oc.column('key').doNothing()).execute();
    },
    async get(key) {
      const row = await db.selectFrom('asset_blob_data').select('data').where('key', '=', checkKey(key)).executeTakeFirst();
      return row?.data;
    },
    async has(key) {
      const row = await db.selectFrom('asset_blob_data').select('key').where('key', '=', checkKey(key)).executeTakeFirst();
      return row !== undefined;
    },
    async delete(key) {
      await db.deleteFrom('asset_blob_data').where('key', '=', checkKey(key)).execute();
    },
  };
}
