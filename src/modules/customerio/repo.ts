// Reads the Customer.io adapter needs that the people module does not offer: the identifiers of a
// person named by cio_id, and a person's devices for the App API. Every query is scoped by workspace.
import type { Queryable } from '../../db/pool.ts';
import { isPersonId } from '../people/index.ts';

export interface PersonIdentity {
  externalId: string | null;
  email: string | null;
  anonymousId: string | null;
}

export interface DeviceRow {
  deviceId: string;
  platform: string | null;
  attributes: Record<string, unknown>;
  lastUsed: Date | null;
}

export function createCustomerioRepo(db: Queryable) {
  return {
    /** How ingest can name the person with this uuid (undefined: no such person). */
    async identity(ws: string, personId: string): Promise<PersonIdentity | undefined> {
      if (!isPersonId(personId)) return undefined;
      const person = await db.selectFrom('people').select(['external_id', 'email'])
        .where('workspace_id', '=', ws).where('id', '=', personId).executeTakeFirst();
      if (!person) return undefined;
      const anon = person.external_id || person.email ? undefined : await db.selectFrom('person_identifiers').select('value')
        .where('workspace_id', '=', ws).where('person_id', '=', personId).where('kind', '=', 'anonymous')
        .orderBy('created_at').orderBy('value').executeTakeFirst();
      return { externalId: person.external_id, email: person.email, anonymousId: anon?.value ?? null };
    },

    async devices(ws: string, personId: string): Promise<DeviceRow[]> {
      const rows = await db.selectFrom('devices').select(['device_id', 'platform', 'attributes', 'last_used'])
        .where('workspace_id', '=', ws).where('person_id', '=', personId)
        .orderBy('created_at').orderBy('device_id').execute();
      return rows.map((r) => ({ deviceId: r.device_id, platform: r.platform, attributes: r.attributes, lastUsed: r.last_used }));
    },
  };
}

export type CustomerioRepo = ReturnType<typeof createCustomerioRepo>;
