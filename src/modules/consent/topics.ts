// Topics: per-workspace subscription categories with an opt-in or opt-out default.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { ttlCache } from '../../db/ttl-cache.ts';
import { AppError } from '../../errors.ts';
import { createConsentRepo } from './repo.ts';
import { TOPIC_KEY, type Topic, type TopicInput } from './types.ts';

const ID = /^top_[0-9a-f]{20}$/;

function notFound(): AppError {
  return new AppError('topic.not_found', undefined, { field: 'id' });
}

function clean(input: TopicInput): Omit<Topic, 'id' | 'createdAt' | 'updatedAt'> {
  if (!TOPIC_KEY.test(input.key)) {
    throw new AppError('request.invalid', 'key: lower-case letters, digits, "_" and "-", starting with a letter or digit', { field: 'key' });
  }
  return {
    key: input.key, name: input.name, description: input.description ?? '', default: input.default,
    channel: input.channel, doubleOptIn: input.doubleOptIn ?? false,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Topics are read by every marketing send: kept per workspace this long (this process's changes clear them at once). */
const CACHE_MS = 5_000;

export function createTopicService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  const cache = ttlCache<string, Map<string, Topic>>(CACHE_MS, async (ws) => new Map((await createConsentRepo(db).topics(ws)).map((t) => [t.key, t])));
  const forget = (ws: string) => cache.forget(ws);
  return {
    /** The topic with this key, from a cache of the workspace's topics a few seconds old at most. */
    async topicByKeyCached(ws: string, key: string): Promise<Topic | undefined> {
      return (await cache.get(ws)).get(key);
    },

    listTopics(ws: string): Promise<Topic[]> {
      return createConsentRepo(db).topics(ws);
    },

    async getTopic(ws: string, id: string): Promise<Topic> {
      const t = ID.test(id) ? await createConsentRepo(db).topic(ws, id) : undefined;
      if (!t) throw notFound();
      return t;
    },

    async createTopic(ws: string, input: TopicInput): Promise<Topic> {
      const t = await createConsentRepo(db).insertTopic(ws, `top_${randomBytes(10).toString('hex')}`, clean(input), clock.now());
      forget(ws);
      if (!t) throw new AppError('topic.key_taken', undefined, { field: 'key' });
      return t;
    },

    /** Replaces the topic's fields. People's states follow the topic (they are kept by id, not key). */
    async updateTopic(ws: string, id: string, input: TopicInput): Promise<Topic> {
      if (!ID.test(id)) throw notFound();
      try {
        const t = await createConsentRepo(db).updateTopic(ws, id, clean(input), clock.now());
        forget(ws);
        if (!t) throw notFound();
        return t;
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('topic.key_taken', undefined, { field: 'key' });
        throw err;
      }
    },

    /** Deletes the topic and every person's state in it (the ledger keeps its history). */
    async deleteTopic(ws: string, id: string): Promise<void> {
      const deleted = ID.test(id) && await createConsentRepo(db).deleteTopic(ws, id);
      forget(ws);
      if (!deleted) throw notFound();
    },
  };
}
