// Topic consent of many people at once (CSV import): states read and written set-based, one ledger
// row per change, and every onChange hook called per change inside the caller's transaction, as
// setConsent does for one person.
import type { Clock } from '../../clock.ts';
import type { Queryable } from '../../db/pool.ts';
import { AppError } from '../../errors.ts';
import { addressFor } from './address.ts';
import { createBulkConsentRepo } from './bulk-repo.ts';
import { createConsentRepo, type LedgerInsert } from './repo.ts';
import type { ConsentChange, ConsentContext, ConsentHook, Topic, TopicState } from './types.ts';

export interface BulkTopicConsent {
  personId: string;
  /** The person's addresses, recorded in the ledger as the address of each change. */
  email: string | null;
  phone: string | null;
  /** topic key -> wanted state */
  topics: Record<string, TopicState>;
}

const defaultState = (t: Topic): TopicState => (t.default === 'opt_out' ? 'subscribed' : 'unsubscribed');

export function createBulkConsent(deps: { clock: Clock; hooks: readonly ConsentHook[] }) {
  return {
    /**
     * Sets topic states of many people inside the caller's transaction; states equal to the current
     * ones write nothing. A person listed twice gets both changes, in order. Answers the changes.
     */
    async setTopicsBulkIn(tx: Queryable, ws: string, items: BulkTopicConsent[], ctx: ConsentContext): Promise<ConsentChange[]> {
      if (items.length === 0) return [];
      const byKey = new Map((await createConsentRepo(tx).topics(ws)).map((t) => [t.key, t]));
      const topicIds = new Set<string>();
      for (const item of items) {
        for (const key of Object.keys(item.topics)) {
          const topic = byKey.get(key);
          if (!topic) throw new AppError('topic.not_found', `No topic "${key}" in this workspace.`, { field: `topics.${key}` });
          topicIds.add(topic.id);
        }
      }
      const repo = createBulkConsentRepo(tx);
      const personIds = [...new Set(items.map((i) => i.personId))];
      const current = await repo.statesForUpdate(ws, personIds, [...topicIds]);
      const at = deps.clock.now();
      const ledger: LedgerInsert[] = [];
      const writes = new Map<string, { personId: string; topicId: string; state: TopicState }>();
      for (const item of items) {
        for (const [key, to] of Object.entries(item.topics)) {
          const topic = byKey.get(key);
          if (!topic) continue;
          const k = `${item.personId}:${topic.id}`;
          const from = current.get(k) ?? defaultState(topic);
          if (from === to) continue;
          current.set(k, to);
          writes.set(k, { personId: item.personId, topicId: topic.id, state: to });
          ledger.push({
            personId: item.personId, kind: 'topic', channel: topic.channel, address: addressFor(item, topic.channel), topic: key,
            from, to, source: ctx.source, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, messageId: ctx.messageId ?? null, at,
          });
        }
      }
      await repo.setStates(ws, [...writes.values()], at);
      const ids = await repo.insertLedger(ws, ledger);
      const changes: ConsentChange[] = [];
      for (const [i, entry] of ledger.entries()) {
        const change: ConsentChange = { workspaceId: ws, ...entry, ledgerId: ids[i] ?? '' };
        for (const hook of deps.hooks) await hook(tx, change);
        changes.push(change);
      }
      return changes;
    },
  };
}
