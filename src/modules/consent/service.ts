// Consent: each person's state per topic and per channel, the ledger, suppressions, and check(), which
// the send pipeline asks before every message. Every change writes its state, its ledger row and calls
// the onChange hook in one transaction.
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { PeopleQueryService, PeopleService } from '../people/index.ts';
import type { SigningService } from '../signing/index.ts';
import type { WorkspaceService } from '../workspaces/index.ts';
import { createConsentRepo, type ConsentRepo } from './repo.ts';
import { createTopicService } from './topics.ts';
import { createLinks } from './links.ts';
import { createSuppressionCheck } from './suppressed.ts';
import { createBulkConsent } from './bulk.ts';
import { addressFor, normaliseAddress, normaliseEmail, normalisePhone } from './address.ts';
import { CONFIRM_RESEND_MS, confirmationContent, type ConfirmationSender } from './confirmation.ts';
import { pickLanguage } from './strings.ts';
import type {
  CheckResult, CheckWhat, CheckWho, ConsentChange, ConsentChanges, ConsentChannel, ConsentContext, ConsentHook,
  ConsentState, LedgerEntry, Suppression, SuppressionReason, Topic, TopicState,
} from './types.ts';

export interface ConsentDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'publicUrl'>;
  signing: SigningService;
  people: Pick<PeopleService, 'isSuppressed' | 'find' | 'suppressedEmails' | 'unsuppressEmail'>;
  peopleQuery: Pick<PeopleQueryService, 'get'>;
  workspaces: Pick<WorkspaceService, 'get'>;
  onChange?: ConsentHook | undefined;
}

export interface PersonContact { id: string; userId: string | null; email: string | null; phone: string | null; locale: string | null }

const defaultState = (t: Topic): TopicState => (t.default === 'opt_out' ? 'subscribed' : 'unsubscribed');

export function createConsentService(deps: ConsentDeps) {
  const { db, clock } = deps;
  const hooks: ConsentHook[] = deps.onChange ? [deps.onChange] : [];
  let confirmations: ConfirmationSender | undefined;
  const suppressed = createSuppressionCheck({ db, people: deps.people });
  const topics = createTopicService({ db, clock });

  /** The person, or undefined when there is no such person in the workspace. */
  async function contact(ws: string, personId: string): Promise<PersonContact | undefined> {
    try {
      const p = await deps.peopleQuery.get(ws, personId, 'id');
      return { id: p.id, userId: p.userId, email: p.email, phone: p.phone, locale: p.locale };
    } catch (err) {
      if (isAppError(err) && err.code === 'person.not_found') return undefined;
      throw err;
    }
  }

  async function mustContact(ws: string, personId: string): Promise<PersonContact> {
    const p = await contact(ws, personId);
    if (!p) throw new AppError('person.not_found', undefined, { field: 'id' });
    return p;
  }

  async function record(tx: Queryable, ws: string, c: Omit<ConsentChange, 'workspaceId' | 'ledgerId'>): Promise<ConsentChange> {
    const ledgerId = await createConsentRepo(tx).insertLedger(ws, c);
    const change: ConsentChange = { workspaceId: ws, ...c, ledgerId };
    for (const hook of hooks) await hook(tx, change);
    return change;
  }

  /**
   * Queues the double opt-in confirmation for a pending topic, unless one was queued within
   * CONFIRM_RESEND_MS (asking again does not spam the person).
   */
  async function requestConfirmation(tx: Queryable, ws: string, person: PersonContact, topic: Topic, at: Date): Promise<void> {
    const channel = topic.channel === 'sms' ? 'sms' : 'email';
    const to = addressFor(person, channel);
    if (to === null) throw new AppError('consent.no_address', undefined, { field: `topics.${topic.key}` });
    const repo = createConsentRepo(tx);
    const last = await repo.confirmationSentAt(ws, person.id, topic.id);
    if (last && at.getTime() - last.getTime() < CONFIRM_RESEND_MS) return;
    if (!confirmations) throw new Error('consent: no confirmation sender is connected (wiring.ts)');
    await repo.markConfirmationSent(ws, person.id, topic.id, at);
    const workspace = await deps.workspaces.get(ws);
    const lang = pickLanguage(person.locale, workspace.settings.defaultLocale);
    await confirmations(tx, ws, {
      channel, to, personId: person.id, key: `consent-confirm:${person.id}:${topic.id}:${at.getTime()}`,
      ...confirmationContent(lang, channel),
      data: { topic: topic.name, workspace: workspace.name, confirm_url: await service.confirmUrl(ws, person.id, topic.key) },
    });
  }

  /**
   * Applies changes inside the caller's transaction; unchanged states write nothing. A double opt-in
   * topic asked to be subscribed becomes `pending` and its confirmation is queued; only the
   * confirmation link (`confirmed`) makes it `subscribed`.
   */
  async function applyIn(tx: Queryable, ws: string, person: PersonContact, changes: ConsentChanges, ctx: ConsentContext, opts: { confirmed?: boolean } = {}): Promise<ConsentChange[]> {
    const repo = createConsentRepo(tx);
    await repo.lockPerson(ws, person.id);
    const at = clock.now();
    const common = {
      personId: person.id, source: ctx.source, at, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, messageId: ctx.messageId ?? null,
    };
    const out: ConsentChange[] = [];
    const topicChanges = Object.entries(changes.topics ?? {});
    if (topicChanges.length > 0) {
      const byKey = new Map((await repo.topics(ws)).map((t) => [t.key, t]));
      const states = await repo.topicStates(ws, person.id);
      const confirm: Topic[] = [];
      for (const [key, want] of topicChanges) {
        const topic = byKey.get(key);
        if (!topic) throw new AppError('topic.not_found', `No topic "${key}" in this workspace.`, { field: `topics.${key}` });
        let to: TopicState = want === true ? 'subscribed' : want === false ? 'unsubscribed' : want;
        const from = states.get(topic.id)?.state ?? defaultState(topic);
        // A confirmation confirms only what is still pending (the person may have unsubscribed since).
        if (topic.doubleOptIn && opts.confirmed && from !== 'pending') continue;
        if (topic.doubleOptIn && to !== 'unsubscribed' && !opts.confirmed) {
          if (from === 'subscribed') continue;
          to = 'pending';
          confirm.push(topic);
        }
        if (from === to) continue;
        await repo.setTopicState(ws, person.id, topic.id, to, at);
        out.push(await record(tx, ws, {
          ...common, kind: 'topic', channel: topic.channel, address: addressFor(person, topic.channel), topic: key, from, to,
        }));
      }
      for (const topic of confirm) await requestConfirmation(tx, ws, person, topic, at);
    }
    const globals = Object.entries(changes.unsubscribedAll ?? {}) as Array<[ConsentChannel, boolean | undefined]>;
    if (globals.some(([, v]) => v !== undefined)) {
      const channels = await repo.channelStates(ws, person.id);
      for (const [channel, want] of globals) {
        if (want === undefined || (channels.get(channel) ?? false) === want) continue;
        await repo.setChannelState(ws, person.id, channel, want, at);
        out.push(await record(tx, ws, {
          ...common, kind: 'global', channel, address: addressFor(person, channel), topic: null,
          from: want ? 'subscribed' : 'unsubscribed', to: want ? 'unsubscribed' : 'subscribed',
        }));
      }
    }
    return out;
  }

  async function stateOf(repo: ConsentRepo, ws: string, personId: string): Promise<ConsentState> {
    const [topics, states, channels] = await Promise.all([repo.topics(ws), repo.topicStates(ws, personId), repo.channelStates(ws, personId)]);
    return {
      personId,
      topics: topics.map((t) => {
        const own = states.get(t.id);
        return {
          key: t.key, name: t.name, description: t.description, channel: t.channel, default: t.default, state: own?.state ?? defaultState(t),
          explicit: own !== undefined, updatedAt: own?.updatedAt ?? null,
        };
      }),
      unsubscribedAll: { email: channels.get('email') ?? false, sms: channels.get('sms') ?? false },
    };
  }

  const service = {
    ...topics,
    ...createLinks(deps, contact),
    ...createBulkConsent({ clock, hooks }),

    /** How double opt-in confirmations are sent: delivery's enqueue, inside the consent change's transaction. */
    useConfirmations(sender: ConfirmationSender): void {
      confirmations = sender;
    },

    /** The double opt-in link was clicked (its POST): pending -> subscribed, source `confirmation`. */
    async confirmTopic(ws: string, personId: string, topicKey: string, ctx: Omit<ConsentContext, 'source'>): Promise<ConsentChange[]> {
      const person = await mustContact(ws, personId);
      return db.transaction().execute((tx) => applyIn(tx, ws, person, { topics: { [topicKey]: 'subscribed' } }, { ...ctx, source: 'confirmation' }, { confirmed: true }));
    },

    /** Run `hook` for every change, inside its transaction (outbound webhooks, CRM sync). */
    onChange(hook: ConsentHook): void {
      hooks.push(hook);
    },

    contact,

    /**
     * May this message go out? Suppressed addresses and deleted people never get anything;
     * transactional messages ignore unsubscribes; marketing needs the channel, and the topic, to allow it.
     */
    /** Inside the people merge's transaction, before the secondary is deleted: its consent moves, stricter state kept. */
    async mergePeople(tx: Queryable, ws: string, primary: string, secondary: string): Promise<void> {
      await createConsentRepo(tx).mergePeople(ws, primary, secondary);
    },

    async check(ws: string, who: CheckWho, what: CheckWhat): Promise<CheckResult> {
      const repo = createConsentRepo(db);
      let email = who.email;
      let phone = who.phone;
      if (who.personId !== undefined) {
        const p = await contact(ws, who.personId);
        // A person who is not there (deleted, merged away, never existed) is not sent to.
        if (!p) return { allowed: false, reason: 'suppressed' };
        if (email === undefined) email = p.email;
        if (phone === undefined) phone = p.phone;
        if (p.userId !== null && await deps.people.isSuppressed(ws, { userId: p.userId })) return { allowed: false, reason: 'suppressed' };
      }
      const address = what.channel === 'email' ? normaliseEmail(email) : normalisePhone(phone);
      if (address !== null && await suppressed(ws, what.channel, address)) return { allowed: false, reason: 'suppressed' };
      if (!what.marketing) return { allowed: true };
      const personId = who.personId;
      if (personId !== undefined && !what.sendToUnsubscribed && (await repo.channelStates(ws, personId)).get(what.channel) === true) {
        return { allowed: false, reason: 'unsubscribed' };
      }
      if (what.topic) {
        const topic = await topics.topicByKeyCached(ws, what.topic);
        if (!topic) throw new AppError('topic.not_found', `No topic "${what.topic}" in this workspace.`, { field: 'topic' });
        const own = personId !== undefined ? (await repo.topicStates(ws, personId)).get(topic.id)?.state : undefined;
        if (own === 'unsubscribed') return { allowed: false, reason: 'topic_unsubscribed' };
        if (topic.default === 'opt_in' && own !== 'subscribed') return { allowed: false, reason: 'not_opted_in' };
      }
      return { allowed: true };
    },

    /** Writes the changes that differ from the person's state, each with a ledger row, in one transaction. */
    async setConsent(ws: string, personId: string, changes: ConsentChanges, ctx: ConsentContext): Promise<ConsentChange[]> {
      const person = await mustContact(ws, personId);
      return db.transaction().execute((tx) => applyIn(tx, ws, person, changes, ctx));
    },

    /** setConsent inside the caller's transaction (for other modules' own writes). */
    setConsentIn(tx: Queryable, ws: string, person: PersonContact, changes: ConsentChanges, ctx: ConsentContext): Promise<ConsentChange[]> {
      return applyIn(tx, ws, person, changes, ctx);
    },

    async state(ws: string, personId: string): Promise<ConsentState> {
      await mustContact(ws, personId);
      return stateOf(createConsentRepo(db), ws, personId);
    },

    /** Newest first; pass the last entry's id as `before` for the next page. */
    ledger(ws: string, opts: { personId?: string | undefined; limit?: number | undefined; before?: string | undefined } = {}): Promise<LedgerEntry[]> {
      if (opts.before !== undefined && !/^\d{1,18}$/.test(opts.before)) throw new AppError('request.invalid', 'before: an entry id', { field: 'before' });
      return createConsentRepo(db).ledger(ws, { personId: opts.personId, before: opts.before, limit: opts.limit ?? 100 });
    },

    /**
     * Puts an address on the suppression list (bounces, complaints, manual). A complaint also
     * unsubscribes the person with that email from all email (source `complaint`). Returns false when
     * the address was already suppressed on that channel.
     */
    async suppress(ws: string, channel: ConsentChannel, address: string, reason: SuppressionReason, source: ConsentContext['source'], ctx: Omit<ConsentContext, 'source'> = {}): Promise<boolean> {
      const clean = normaliseAddress(channel, address);
      const personId = channel === 'email' ? await deps.people.find(ws, { email: clean }) : undefined;
      const person = personId !== undefined ? await contact(ws, personId) : undefined;
      return db.transaction().execute(async (tx) => {
        const at = clock.now();
        const created = await createConsentRepo(tx).insertSuppression(ws, { channel, address: clean, reason, source }, at);
        if (created) {
          await record(tx, ws, {
            personId: person?.id ?? null, kind: 'suppression', channel, address: clean, topic: null, from: 'allowed', to: 'suppressed',
            source, at, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, messageId: ctx.messageId ?? null,
          });
        }
        if (reason === 'complaint' && person) {
          await applyIn(tx, ws, person, { unsubscribedAll: { email: true } }, { ...ctx, source: 'complaint' });
        }
        return created;
      });
    },

    /**
     * Takes an address off every list that stops sends to it: the suppression list and, for email, a
     * deleted-and-suppressed person's email mark (their user ids stay suppressed: they are not an
     * address). False when it was on neither.
     */
    async unsuppress(ws: string, channel: ConsentChannel, address: string, ctx: ConsentContext = { source: 'admin' }): Promise<boolean> {
      const clean = normaliseAddress(channel, address);
      const personId = channel === 'email' ? await deps.people.find(ws, { email: clean }) : undefined;
      const lifted = channel === 'email' && await deps.people.unsuppressEmail(ws, clean);
      return db.transaction().execute(async (tx) => {
        if (!(await createConsentRepo(tx).deleteSuppression(ws, channel, clean)) && !lifted) return false;
        await record(tx, ws, {
          personId: personId ?? null, kind: 'suppression', channel, address: clean, topic: null, from: 'suppressed', to: 'allowed',
          source: ctx.source, at: clock.now(), ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, messageId: ctx.messageId ?? null,
        });
        return true;
      });
    },

    /** The list entry for an address (any spelling of it), if suppressed. */
    async suppression(ws: string, channel: ConsentChannel, address: string): Promise<Suppression | undefined> {
      return createConsentRepo(db).suppression(ws, channel, normaliseAddress(channel, address));
    },

    /** Every entry that stops sends to the person's email or phone (why they are suppressed), newest first. */
    async suppressionsOf(ws: string, personId: string): Promise<Suppression[]> {
      const p = await mustContact(ws, personId);
      const repo = createConsentRepo(db);
      const out: Suppression[] = [];
      for (const channel of ['email', 'sms'] as const) {
        const address = addressFor(p, channel);
        if (address !== null) out.push(...await repo.suppressions(ws, { channel, address, limit: 50, offset: 0 }));
      }
      return out;
    },

    suppressions(ws: string, opts: { channel?: ConsentChannel | undefined; reason?: SuppressionReason | undefined; limit?: number | undefined; offset?: number | undefined } = {}): Promise<Suppression[]> {
      return createConsentRepo(db).suppressions(ws, { ...opts, limit: opts.limit ?? 100, offset: opts.offset ?? 0 });
    },

    /**
     * Subscribes a person to a topic: `pending` for double opt-in topics until the person confirms (the
     * confirmation is queued; the URL is answered too), `subscribed` otherwise.
     */
    async subscribe(ws: string, personId: string, topicKey: string, ctx: ConsentContext): Promise<{ state: TopicState; confirmUrl: string | null }> {
      await service.setConsent(ws, personId, { topics: { [topicKey]: 'subscribed' } }, ctx);
      const state = (await service.state(ws, personId)).topics.find((t) => t.key === topicKey)?.state ?? 'unsubscribed';
      return { state, confirmUrl: state === 'pending' ? await service.confirmUrl(ws, personId, topicKey) : null };
    },
  };
  return service;
}

export type ConsentService = ReturnType<typeof createConsentService>;
