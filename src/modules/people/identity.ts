// Identity resolution for a batch of events, inside the ingest transaction. The rules (docs/identity.md):
//  1. A user id names one person; an anonymous id names one person; an email names the oldest person with it.
//  2. An event with both a user id and an anonymous id links them: an anonymous-only person is merged into
//     (or, if the user id is new, becomes) the user's person. An anonymous id already tied to another
//     identified person is left where it is; the event goes to the user id's person.
//  3. A new user id whose identify carries the email of a person with no user id yet names that person.
//  4. An event with only an email (Customer.io) goes to that email's person, created if missing.
//  5. alias(previousId → userId) merges previousId's person into userId's (userId's attributes win).
//  6. Identifiers that were deleted and suppressed never create a person again.
import { randomUUID } from 'node:crypto';
import type { IncomingEvent, Json } from '../ingest/index.ts';
import { createPeopleRepo, splitNulls, type PeopleRepo } from './repo.ts';
import type { Queryable } from '../../db/pool.ts';
import type { IdentifierKind, NewPerson, PersonPatch } from './types.ts';

export type Resolution = { personId: string } | { outcome: 'suppressed' | 'skipped' };

interface PersonState {
  id: string;
  identified: boolean;
  hasExternalId: boolean;
}

const key = (kind: string, value: string) => `${kind}:${value}`;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

export class BatchResolver {
  private readonly repo: PeopleRepo;
  private readonly ids = new Map<string, string>(); // "user:u1" -> person id
  private readonly byEmail = new Map<string, string>(); // lower(email) -> person id
  private readonly people = new Map<string, PersonState>();
  private readonly redirect = new Map<string, string>(); // merged-away person -> primary
  private readonly newPeople = new Map<string, NewPerson>();
  private readonly newIds: Array<{ kind: IdentifierKind; value: string; personId: string }> = [];
  private readonly patches = new Map<string, PersonPatch>();
  private suppressed = new Set<string>();
  /** People this batch created, and existing people whose profile it wrote (for segments: docs/segments.md). */
  private readonly created = new Set<string>();
  private readonly patched = new Set<string>();

  constructor(private readonly db: Queryable, private readonly ws: string, private readonly now: Date,
    private readonly mergePeople: (primary: string, secondary: string) => Promise<void>) {
    this.repo = createPeopleRepo(db);
  }

  /** One round trip: identifiers, emails, suppressions and the found people's flags. */
  async load(events: IncomingEvent[]): Promise<void> {
    const pairs = new Map<string, { kind: IdentifierKind; value: string }>();
    const emails = new Set<string>();
    for (const e of events) {
      if (e.userId) pairs.set(key('user', e.userId), { kind: 'user', value: e.userId });
      if (e.anonymousId) pairs.set(key('anonymous', e.anonymousId), { kind: 'anonymous', value: e.anonymousId });
      if (e.previousId) {
        pairs.set(key('user', e.previousId), { kind: 'user', value: e.previousId });
        pairs.set(key('anonymous', e.previousId), { kind: 'anonymous', value: e.previousId });
      }
      const email = e.email ?? (e.type === 'identify' ? str(e.traits?.email) : undefined);
      if (email) emails.add(email.toLowerCase());
    }
    const supPairs: Array<{ kind: 'user' | 'anonymous' | 'email'; value: string }> = [...pairs.values()];
    for (const e of emails) supPairs.push({ kind: 'email', value: e });
    const found = await this.repo.loadForBatch(this.ws, [...pairs.values()], [...emails], supPairs);
    this.suppressed = found.suppressed;
    for (const h of found.identifiers) this.ids.set(key(h.kind, h.value), h.personId);
    for (const e of found.emails) this.byEmail.set(e.email, e.personId);
    for (const m of found.people.values()) {
      this.people.set(m.id, { id: m.id, identified: m.identified, hasExternalId: m.externalId !== null });
    }
  }

  private live(id: string): string {
    let cur = id;
    for (let next = this.redirect.get(cur); next; next = this.redirect.get(cur)) cur = next;
    return cur;
  }

  private lookup(kind: IdentifierKind, value: string | null | undefined): string | undefined {
    if (!value) return undefined;
    const id = this.ids.get(key(kind, value));
    return id === undefined ? undefined : this.live(id);
  }

  private isSuppressed(e: IncomingEvent, email: string | undefined): boolean {
    return (!!e.userId && this.suppressed.has(key('user', e.userId)))
      || (!!e.anonymousId && this.suppressed.has(key('anonymous', e.anonymousId)))
      || (!!email && this.suppressed.has(key('email', email.toLowerCase())));
  }

  private create(opts: { userId?: string; email?: string }): string {
    const id = randomUUID();
    const identified = !!(opts.userId ?? opts.email);
    this.newPeople.set(id, { id, externalId: opts.userId ?? null, email: opts.email ?? null, identified, at: this.now });
    this.created.add(id);
    this.people.set(id, { id, identified, hasExternalId: !!opts.userId });
    if (opts.email) this.byEmail.set(opts.email.toLowerCase(), id);
    return id;
  }

  private link(kind: IdentifierKind, value: string, personId: string): void {
    this.ids.set(key(kind, value), personId);
    this.newIds.push({ kind, value, personId });
  }

  private patch(personId: string): PersonPatch {
    let p = this.patches.get(personId);
    if (!p) {
      p = { id: personId, set: {}, unset: [] };
      this.patches.set(personId, p);
    }
    return p;
  }

  /** Gives userId to a person that had none (anonymous or email-only). */
  private promote(personId: string, userId: string): void {
    const state = this.people.get(personId);
    if (state) {
      state.identified = true;
      state.hasExternalId = true;
    }
    const p = this.patch(personId);
    p.externalId = userId;
    p.identified = true;
    this.link('user', userId, personId);
  }

  private async merge(primary: string, secondary: string): Promise<void> {
    if (primary === secondary) return;
    await this.flush(); // the merge works on rows, so earlier changes must be written first
    await this.mergePeople(primary, secondary);
    this.redirect.set(secondary, primary);
    const s = this.people.get(secondary);
    const p = this.people.get(primary);
    if (s && p) {
      p.identified ||= s.identified;
      p.hasExternalId ||= s.hasExternalId;
    }
  }

  async resolve(e: IncomingEvent): Promise<Resolution> {
    const traitEmail = e.type === 'identify' ? str(e.traits?.email) : undefined;
    const email = e.email ?? traitEmail;
    if (this.isSuppressed(e, e.userId ? undefined : email)) return { outcome: 'suppressed' };
    if (e.type === 'alias') return this.resolveAlias(e);

    let personId: string | undefined;
    const byUser = this.lookup('user', e.userId);
    const byAnon = this.lookup('anonymous', e.anonymousId);
    if (e.userId) {
      personId = byUser;
      if (personId && byAnon && byAnon !== personId && !this.people.get(byAnon)?.identified) {
        await this.merge(personId, byAnon);
      } else if (!personId && byAnon && !this.people.get(byAnon)?.hasExternalId) {
        personId = byAnon;
        this.promote(personId, e.userId);
      } else if (!personId) {
        const emailPerson = traitEmail ? this.lookupEmail(traitEmail) : undefined;
        if (emailPerson && !this.people.get(emailPerson)?.hasExternalId) {
          personId = emailPerson;
          this.promote(personId, e.userId);
        }
      }
      if (!personId) {
        if (e.updateOnly) return { outcome: 'skipped' };
        personId = this.create({ userId: e.userId, ...(traitEmail ? { email: traitEmail } : {}) });
        this.link('user', e.userId, personId);
      }
    } else if (e.email) {
      personId = this.lookupEmail(e.email);
      if (personId && byAnon && byAnon !== personId && !this.people.get(byAnon)?.identified) {
        await this.merge(personId, byAnon);
      }
      if (!personId) {
        if (e.updateOnly) return { outcome: 'skipped' };
        personId = byAnon && !this.people.get(byAnon)?.identified ? byAnon : this.create({ email: e.email });
        if (personId === byAnon) this.patch(personId).email = e.email;
      }
    } else if (e.anonymousId) {
      personId = byAnon;
      if (!personId) {
        if (e.updateOnly) return { outcome: 'skipped' };
        personId = this.create({});
      }
    } else {
      return { outcome: 'skipped' };
    }
    if (e.anonymousId && !this.ids.has(key('anonymous', e.anonymousId))) this.link('anonymous', e.anonymousId, personId);
    if (e.type === 'identify') this.applyTraits(personId, e.traits ?? {}, e.context ?? {});
    return { personId };
  }

  private lookupEmail(email: string): string | undefined {
    const id = this.byEmail.get(email.toLowerCase());
    return id === undefined ? undefined : this.live(id);
  }

  private async resolveAlias(e: IncomingEvent): Promise<Resolution> {
    const userId = e.userId;
    const previousId = e.previousId;
    if (!userId || !previousId) return { outcome: 'skipped' };
    const target = this.lookup('user', userId);
    const previous = this.lookup('user', previousId) ?? this.lookup('anonymous', previousId);
    if (target && previous) {
      await this.merge(target, previous);
      return { personId: target };
    }
    if (previous) {
      if (!this.people.get(previous)?.hasExternalId) this.promote(previous, userId);
      else this.link('user', userId, previous);
      return { personId: previous };
    }
    const personId = target ?? this.create({ userId });
    if (!target) this.link('user', userId, personId);
    this.link('user', previousId, personId);
    return { personId };
  }

  private applyTraits(personId: string, traits: Json, context: Json): void {
    const p = this.patch(personId);
    const { set, unset } = splitNulls(traits);
    Object.assign(p.set, set);
    for (const k of Object.keys(set)) p.unset = p.unset.filter((u) => u !== k);
    for (const k of unset) {
      delete p.set[k];
      if (!p.unset.includes(k)) p.unset.push(k);
    }
    if ('email' in traits) p.email = str(traits.email) ?? null;
    if ('phone' in traits) p.phone = str(traits.phone) ?? null;
    const tz = str(traits.timezone) ?? str(context.timezone);
    if (tz) p.timezone = tz;
    const locale = str(traits.locale) ?? str(context.locale);
    if (locale) p.locale = locale;
  }

  /**
   * Who this batch created and whose stored profile it changed (a user id given to an anonymous person,
   * an email set by a Customer.io event, identify traits), as live ids. A new person matches segments
   * by what they have not done as well as by what they did, so segments evaluate them against everything.
   */
  touched(): { created: string[]; changed: string[] } {
    const created = new Set([...this.created].map((id) => this.live(id)));
    const changed = [...new Set([...this.patched].map((id) => this.live(id)))].filter((id) => !created.has(id));
    return { created: [...created], changed };
  }

  /** The live person id for an id handed out earlier (people may have merged since). */
  current(personId: string): string {
    return this.live(personId);
  }

  /** Writes new people, identifiers and attribute patches (one statement). Safe to call more than once. */
  async flush(): Promise<void> {
    const fresh = new Map([...this.newPeople.values()].map((p) => [p.id, p]));
    this.newPeople.clear();
    const existing: PersonPatch[] = [];
    for (const p of this.takePatches()) {
      const n = fresh.get(p.id);
      if (!n) {
        existing.push(p);
        this.patched.add(p.id);
        continue;
      }
      // A new person's first attributes go into its INSERT.
      n.attributes = { ...p.set };
      if (p.email !== undefined) n.email = p.email;
      if (p.phone !== undefined) n.phone = p.phone;
      if (p.timezone) n.timezone = p.timezone;
      if (p.locale) n.locale = p.locale;
      if (p.externalId && !n.externalId) n.externalId = p.externalId;
      n.identified ||= !!p.identified;
    }
    const ids = this.newIds.splice(0).map((i) => ({ ...i, personId: this.live(i.personId) }));
    const lost = await this.repo.writeBatch(this.ws, [...fresh.values()], ids, existing, this.now);
    if (lost.length === 0) return;
    // Another transaction created the same user/anonymous id first: fold ours into theirs.
    for (const hit of await this.repo.findIdentifiers(this.ws, lost)) {
      const k = key(hit.kind, hit.value);
      const ours = this.live(this.ids.get(k) ?? hit.personId);
      this.ids.set(k, hit.personId);
      if (ours !== hit.personId) {
        await this.mergePeople(hit.personId, ours);
        this.redirect.set(ours, hit.personId);
      }
    }
  }

  /** The batch's patches, folded per live person. */
  private takePatches(): PersonPatch[] {
    const byPerson = new Map<string, PersonPatch>();
    for (const p of this.patches.values()) {
      const id = this.live(p.id);
      const existing = byPerson.get(id);
      byPerson.set(id, existing ? { ...existing, ...p, id, set: { ...existing.set, ...p.set }, unset: [...existing.unset, ...p.unset] } : { ...p, id });
    }
    this.patches.clear();
    return [...byPerson.values()];
  }
}

export function createResolver(db: Queryable, ws: string, now: Date, mergePeople: (primary: string, secondary: string) => Promise<void>): BatchResolver {
  return new BatchResolver(db, ws, now, mergePeople);
}
