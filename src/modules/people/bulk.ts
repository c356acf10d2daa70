// Bulk upsert of people (CSV import): a chunk of rows resolved to people with the identity rules of
// docs/identity.md, then written set-based in the caller's transaction. One lookup, then at most one
// INSERT of people, one of user ids and one UPDATE, however many rows the chunk has.
//  - A row names a person by user id, else by email (the oldest person with it), else by phone.
//  - A new user id whose email belongs to a person without a user id gives that person the user id.
//  - A row with a deleted-and-suppressed user id or email is skipped: deleted people stay deleted.
//  - Attributes merge into the person's (later rows win); email and phone, when given, replace theirs.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/pool.ts';
import { createBulkPeopleRepo, type BulkLookup, type BulkNewPerson, type BulkPatch } from './bulk-repo.ts';

export interface BulkPersonRow {
  userId?: string | undefined;
  /** A valid email address, trimmed. */
  email?: string | undefined;
  phone?: string | undefined;
  attributes: Record<string, unknown>;
}

export type BulkOutcome =
  | { kind: 'created' | 'updated'; personId: string }
  | { kind: 'skipped'; reason: 'suppressed' | 'not_found' };

export interface BulkUpsertResult {
  /** One per input row, in order. */
  outcomes: BulkOutcome[];
  /** People created, or whose attributes, email, phone or user id changed. */
  changed: string[];
  /** People created (a subset of `changed`). */
  created: string[];
}

export interface BulkUpsertOptions {
  /** Never create a person; rows naming nobody are skipped ('not_found'). */
  updateOnly: boolean;
  at: Date;
  /**
   * Called after the lookup with the existing people the rows resolve to (before anything is written).
   * Answering true means it waited for other writers: the rows are looked up and resolved again.
   */
  gate?: ((existing: readonly string[]) => Promise<boolean>) | undefined;
}

/** The identifiers a row can be found by ("u:<user id>", "e:<lower email>", "p:<phone>"): rows sharing none never name the same person. */
export function bulkRowKeys(r: BulkPersonRow): string[] {
  const keys: string[] = [];
  if (r.userId) keys.push(`u:${r.userId}`);
  if (r.email) keys.push(`e:${r.email.toLowerCase()}`);
  if (r.phone) keys.push(`p:${r.phone}`);
  return keys;
}

/** Another transaction added one of the chunk's user ids first: roll back and run the chunk again. */
export class BulkIdentityConflict extends Error {
  constructor() {
    super('a user id of the chunk was added concurrently; retry the chunk');
    this.name = 'BulkIdentityConflict';
  }
}

/**
 * A time-ordered (version 7) UUID: a chunk's new people land at the end of the people and identifier
 * indexes instead of on thousands of random pages, which keeps a million-row import fast.
 */
export function uuidv7(prefix = uuidv7Prefix()): string {
  // randomUUID draws from a cached pool of random bytes (randomBytes per id was a tenth of an import's
  // CPU time); its first 48 bits become the time in ms and its version nibble a 7.
  return `${prefix}7${randomUUID().slice(15)}`;
}

/** The time part of version 7 UUIDs made at `now` ("0189abcd-ef01-"), to share among a batch's ids. */
export function uuidv7Prefix(now = Date.now()): string {
  const ms = now.toString(16).padStart(12, '0').slice(-12);
  return `${ms.slice(0, 8)}-${ms.slice(8)}-`;
}

interface Target {
  id: string;
  externalId: string | null;
  isNew: boolean;
  attributes: Record<string, unknown>;
  email: string | null;
  phone: string | null;
  /** A user id to add to an existing person that had none. */
  promote: string | null;
}

/** Resolves each row, in order, to an existing person, a new one, or a skip. */
function resolveRows(rows: BulkPersonRow[], found: BulkLookup, updateOnly: boolean): { targets: Map<string, Target>; outcomes: BulkOutcome[] } {
  const idPrefix = uuidv7Prefix();
  const anySuppressed = found.suppressed.size > 0;
  const targets = new Map<string, Target>();
  const byUser = new Map<string, Target>();
  const byEmail = new Map<string, Target>();
  const byPhone = new Map<string, Target>();

  const existing = (id: string, externalId: string | null): Target => {
    let t = targets.get(id);
    if (!t) {
      t = { id, externalId, isNew: false, attributes: {}, email: null, phone: null, promote: null };
      targets.set(id, t);
    }
    return t;
  };
  const fromUser = (userId: string): Target | undefined => {
    const t = byUser.get(userId);
    if (t) return t;
    const id = found.users.get(userId);
    return id === undefined ? undefined : existing(id, userId);
  };
  const fromMap = (mine: Map<string, Target>, theirs: Map<string, { id: string; externalId: string | null }>, key: string): Target | undefined => {
    const t = mine.get(key);
    if (t) return t;
    const hit = theirs.get(key);
    return hit === undefined ? undefined : existing(hit.id, hit.externalId);
  };

  const outcomes: BulkOutcome[] = [];
  for (const r of rows) {
    const email = r.email?.toLowerCase();
    if (anySuppressed && ((r.userId && found.suppressed.has(`user:${r.userId}`)) || (email && found.suppressed.has(`email:${email}`)))) {
      outcomes.push({ kind: 'skipped', reason: 'suppressed' });
      continue;
    }
    let t: Target | undefined;
    if (r.userId) {
      t = fromUser(r.userId);
      if (!t && email) {
        const byMail = fromMap(byEmail, found.emails, email);
        if (byMail && byMail.externalId === null) {
          t = byMail;
          t.externalId = r.userId;
          if (!t.isNew) t.promote = r.userId;
        }
      }
    } else if (email) {
      t = fromMap(byEmail, found.emails, email);
    } else if (r.phone) {
      t = fromMap(byPhone, found.phones, r.phone);
    }
    let created = false;
    if (!t) {
      if (updateOnly) {
        outcomes.push({ kind: 'skipped', reason: 'not_found' });
        continue;
      }
      t = { id: uuidv7(idPrefix), externalId: r.userId ?? null, isNew: true, attributes: {}, email: null, phone: null, promote: null };
      targets.set(t.id, t);
      created = true;
    }
    if (r.userId) byUser.set(r.userId, t);
    if (email && !byEmail.has(email) && !found.emails.has(email)) byEmail.set(email, t);
    if (r.phone && !byPhone.has(r.phone) && !found.phones.has(r.phone)) byPhone.set(r.phone, t);
    Object.assign(t.attributes, r.attributes);
    if (r.email) t.email = r.email;
    if (r.phone) t.phone = r.phone;
    outcomes.push({ kind: created ? 'created' : 'updated', personId: t.id });
  }
  return { targets, outcomes };
}

/**
 * Creates or updates the people the rows name, inside the caller's transaction. Throws
 * BulkIdentityConflict when a concurrent writer claimed one of the new user ids (retry the chunk).
 */
export async function bulkUpsertPeople(db: Queryable, ws: string, rows: BulkPersonRow[], opts: BulkUpsertOptions): Promise<BulkUpsertResult> {
  const repo = createBulkPeopleRepo(db);
  const users = new Set<string>();
  const emails = new Set<string>();
  const phones = new Set<string>();
  for (const r of rows) {
    if (r.userId) users.add(r.userId);
    if (r.email) emails.add(r.email.toLowerCase());
    if (r.phone) phones.add(r.phone);
  }
  let resolved: ReturnType<typeof resolveRows>;
  for (;;) {
    const found = await repo.lookup(ws, [...users], [...emails], [...phones]);
    resolved = resolveRows(rows, found, opts.updateOnly);
    const existing = [...resolved.targets.values()].filter((t) => !t.isNew).map((t) => t.id);
    if (!opts.gate || !(await opts.gate(existing))) break;
  }
  const { targets, outcomes } = resolved;

  const fresh: BulkNewPerson[] = [];
  const patches: BulkPatch[] = [];
  const newIds: Array<{ value: string; personId: string }> = [];
  for (const t of targets.values()) {
    const attributes = t.attributes;
    if (t.isNew) {
      fresh.push({ id: t.id, externalId: t.externalId, email: t.email, phone: t.phone, attributes });
    } else {
      patches.push({ id: t.id, attributes, email: t.email, phone: t.phone, externalId: t.promote });
      if (t.promote !== null) newIds.push({ value: t.promote, personId: t.id });
    }
  }
  const inserted = await repo.insertPeople(ws, fresh, opts.at);
  if (inserted.idsAdded < inserted.idsWanted || (await repo.insertUserIds(ws, newIds)) < newIds.length) throw new BulkIdentityConflict();
  const updated = await repo.updatePeople(ws, patches, opts.at);
  const created = fresh.map((p) => p.id);
  return { outcomes, changed: [...created, ...updated], created };
}

/** Email and phone of each person (consent's ledger records the address a change applies to). */
export function peopleContacts(db: Queryable, ws: string, ids: string[]): Promise<Map<string, { email: string | null; phone: string | null }>> {
  return createBulkPeopleRepo(db).contacts(ws, ids);
}
