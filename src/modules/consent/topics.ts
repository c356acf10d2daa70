// Topics: per-workspace subscription categories with an opt-in or opt-out default.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
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

export function createTopicService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  return {
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
      if (!t) throw new AppError('topic.key_taken', undefined, { field: 'key' });
      return t;
    },

    /** Replaces the topic's fields. People's states follow the topic (they are kept by id, not key). */
    async updateTopic(ws: string, id: string, input: TopicInput): Promise<Topic> {
      if (!ID.test(id)) throw notFound();
      try {
        const t = await createConsentRepo(db).updateTopic(ws, id, clean(input), clock.now());
        if (!t) throw notFound();
        return t;
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('topic.key_taken', undefined, { field: 'key' });
        throw err;
      }
    },

    /** Deletes the topic and every person's state in it (the ledger keeps its history). */
    async deleteTopic(ws: string, id: string): Promise<void> {
      if (!ID.test(id) || !(await createConsentRepo(db).deleteTopic(ws, id))) throw notFound();
    },
  };
}
