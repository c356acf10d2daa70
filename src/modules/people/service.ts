// People: find by any identifier, merge, delete (and suppress), devices and objects.
// Identity resolution for ingest lives in identity.ts and runs inside the ingest transaction.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { AppError } from '../../errors.ts';
import { createPeopleRepo } from './repo.ts';
import { createResolver, type BatchResolver } from './identity.ts';
import type { Device, PersonRef, SuppressionKind } from './types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isPersonId(value: string): boolean {
  return UUID.test(value);
}

/** Runs inside a merge's transaction before the secondary person is deleted (consent moves its rows). */
export type MergeHook = (tx: Queryable, ws: string, primary: string, secondary: string) => Promise<void>;

/** Moves everything of secondary to primary inside the caller's transaction. */
export async function mergePeopleIn(db: Queryable, ws: string, primary: string, secondary: string, at: Date, hooks: readonly MergeHook[] = []): Promise<void> {
  if (primary === secondary) return;
  const repo = createPeopleRepo(db);
  await repo.lockPeople(ws, [primary, secondary]);
  for (const hook of hooks) await hook(db, ws, primary, secondary);
  await repo.mergeInto(ws, primary, secondary, at);
}

export function createPeopleService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  const mergeHooks: MergeHook[] = [];

  async function findIn(q: Queryable, ws: string, ref: PersonRef): Promise<string | undefined> {
    const repo = createPeopleRepo(q);
    if (ref.id !== undefined) {
      if (!isPersonId(ref.id)) return undefined;
      return (await repo.findMeta(ws, [ref.id]))[0]?.id;
    }
    if (ref.userId !== undefined) return (await repo.findIdentifiers(ws, [{ kind: 'user', value: ref.userId }]))[0]?.personId;
    if (ref.anonymousId !== undefined) return (await repo.findIdentifiers(ws, [{ kind: 'anonymous', value: ref.anonymousId }]))[0]?.personId;
    if (ref.email !== undefined) return (await repo.findByEmails(ws, [ref.email.toLowerCase()]))[0]?.id;
    return undefined;
  }

  async function mustFind(q: Queryable, ws: string, ref: PersonRef, field = 'id'): Promise<string> {
    const id = await findIn(q, ws, ref);
    if (!id) throw new AppError('person.not_found', undefined, { field });
    return id;
  }

  async function remove(ws: string, ref: PersonRef, suppress: boolean): Promise<boolean> {
    return db.transaction().execute(async (tx) => {
      const repo = createPeopleRepo(tx);
      const id = await findIn(tx, ws, ref);
      const marks: Array<{ kind: SuppressionKind; value: string }> = [];
      if (id) {
        const [meta] = await repo.findMeta(ws, [id]);
        marks.push(...await repo.identifiersOf(ws, id));
        if (meta?.email) marks.push({ kind: 'email', value: meta.email.toLowerCase() });
        await repo.deletePerson(ws, id);
      }
      if (suppress) {
        // Suppress the identifiers named in the call too, so an id that was never seen stays out.
        if (ref.userId) marks.push({ kind: 'user', value: ref.userId });
        if (ref.email) marks.push({ kind: 'email', value: ref.email.toLowerCase() });
        if (ref.anonymousId) marks.push({ kind: 'anonymous', value: ref.anonymousId });
        await repo.insertSuppressions(ws, marks, 'deleted', `del_${randomBytes(10).toString('hex')}`);
      }
      return id !== undefined;
    });
  }

  return {
    /** Run `hook` in every merge of two people (identity resolution and explicit merges alike). */
    onMerge(hook: MergeHook): void {
      mergeHooks.push(hook);
    },

    /** A resolver for one ingest batch inside the caller's transaction. */
    resolver(tx: Queryable, ws: string, now: Date): BatchResolver {
      return createResolver(tx, ws, now, (primary, secondary) => mergePeopleIn(tx, ws, primary, secondary, now, mergeHooks));
    },

    find(ws: string, ref: PersonRef): Promise<string | undefined> {
      return findIn(db, ws, ref);
    },

    /** Merges secondary into primary (primary's attributes win; everything else moves). Returns the primary's id. */
    async merge(ws: string, primary: PersonRef, secondary: PersonRef): Promise<string> {
      return db.transaction().execute(async (tx) => {
        const p = await mustFind(tx, ws, primary, 'primary');
        const s = await mustFind(tx, ws, secondary, 'secondary');
        if (p === s) return p;
        await mergePeopleIn(tx, ws, p, s, clock.now(), mergeHooks);
        return p;
      });
    },

    /** Deletes the person and all their data; later calls may create them again. */
    delete(ws: string, ref: PersonRef): Promise<boolean> {
      return remove(ws, ref, false);
    },

    /** Deletes the person and all their data, and keeps their identifiers from creating anyone again. */
    deleteAndSuppress(ws: string, ref: PersonRef): Promise<boolean> {
      return remove(ws, ref, true);
    },

    /**
     * Lifts a delete-and-suppress named by any of its identifiers: every identifier that deletion
     * marked, the email included, so nothing stays suppressed out of sight. Answers what was lifted.
     */
    async unsuppress(ws: string, ref: PersonRef): Promise<Array<{ kind: SuppressionKind; value: string }>> {
      const rows: Array<{ kind: SuppressionKind; value: string }> = [];
      if (ref.userId) rows.push({ kind: 'user', value: ref.userId });
      if (ref.email) rows.push({ kind: 'email', value: ref.email.toLowerCase() });
      if (ref.anonymousId) rows.push({ kind: 'anonymous', value: ref.anonymousId });
      return createPeopleRepo(db).deleteSuppressions(ws, rows, { whole: true });
    },

    /** Lifts only the email mark of a delete-and-suppress (the address-level unsuppress); true when there was one. */
    async unsuppressEmail(ws: string, email: string): Promise<boolean> {
      return (await createPeopleRepo(db).deleteSuppressions(ws, [{ kind: 'email', value: email.toLowerCase() }], { whole: false })).length > 0;
    },

    /** Which of these (lower-cased) email addresses were deleted and suppressed: one statement for all. */
    async suppressedEmails(ws: string, emails: readonly string[]): Promise<Set<string>> {
      const found = await createPeopleRepo(db).findSuppressed(ws, emails.map((value) => ({ kind: 'email' as const, value: value.toLowerCase() })));
      return new Set([...found].map((k) => k.slice('email:'.length)));
    },

    async isSuppressed(ws: string, ref: PersonRef): Promise<boolean> {
      const rows: Array<{ kind: SuppressionKind; value: string }> = [];
      if (ref.userId) rows.push({ kind: 'user', value: ref.userId });
      if (ref.email) rows.push({ kind: 'email', value: ref.email.toLowerCase() });
      if (ref.anonymousId) rows.push({ kind: 'anonymous', value: ref.anonymousId });
      return (await createPeopleRepo(db).findSuppressed(ws, rows)).size > 0;
    },

    async setDevice(ws: string, ref: PersonRef, device: Device): Promise<void> {
      const id = await mustFind(db, ws, ref);
      await createPeopleRepo(db).upsertDevice(ws, id, {
        id: device.id, platform: device.platform ?? null, lastUsed: device.lastUsed ?? null, attributes: device.attributes ?? {},
      }, clock.now());
    },

    async deleteDevice(ws: string, ref: PersonRef, deviceId: string): Promise<boolean> {
      const id = await mustFind(db, ws, ref);
      return createPeopleRepo(db).deleteDevice(ws, id, deviceId);
    },

    async upsertObject(ws: string, type: string, objectId: string, attributes: Record<string, unknown>): Promise<void> {
      await createPeopleRepo(db).upsertObject(ws, type, objectId, attributes, clock.now());
    },

    async deleteObject(ws: string, type: string, objectId: string): Promise<void> {
      await createPeopleRepo(db).deleteObject(ws, type, objectId);
    },

    async relate(ws: string, ref: PersonRef, objects: Array<{ type: string; id: string; attributes?: Record<string, unknown> }>): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const id = await mustFind(tx, ws, ref);
        const repo = createPeopleRepo(tx);
        for (const o of objects) await repo.relate(ws, id, o.type, o.id, o.attributes ?? {}, clock.now());
      });
    },

    async unrelate(ws: string, ref: PersonRef, objects: Array<{ type: string; id: string }>): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const id = await mustFind(tx, ws, ref);
        const repo = createPeopleRepo(tx);
        for (const o of objects) await repo.unrelate(ws, id, o.type, o.id);
      });
    },

    /** group calls inside the ingest transaction: the object and the person's relation to it. */
    async groupIn(tx: Queryable, ws: string, personId: string, type: string, objectId: string, traits: Record<string, unknown>, at: Date): Promise<void> {
      const repo = createPeopleRepo(tx);
      await repo.upsertObject(ws, type, objectId, traits, at);
      await repo.relate(ws, personId, type, objectId, {}, at);
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
