// The installation's signing key: TANDEM_SIGNING_SECRET, else one made on first use and kept in the
// database so every api and worker process signs and verifies alike.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/pool.ts';
import { createSigner, type Signer } from './signer.ts';

const NAME = 'link_signing_key';

export function createSigningService(deps: { db: Db; config: Pick<Config, 'signingSecret'> }) {
  let signer: Promise<Signer> | undefined;

  async function load(): Promise<Signer> {
    if (deps.config.signingSecret) return createSigner(deps.config.signingSecret);
    await deps.db.insertInto('instance_secrets').values({ name: NAME, value: randomBytes(32).toString('base64url') })
      .onConflict((oc) => oc.column('name').doNothing()).execute();
    const row = await deps.db.selectFrom('instance_secrets').select('value').where('name', '=', NAME).executeTakeFirstOrThrow();
    return createSigner(row.value);
  }

  return {
    /** The signer (loaded once per process). */
    signer(): Promise<Signer> {
      signer ??= load().catch((err: unknown) => {
        signer = undefined;
        throw err;
      });
      return signer;
    },
  };
}

export type SigningService = ReturnType<typeof createSigningService>;
