// The transactional API (Customer.io's App API `/v1/send/email` and `/v1/send/sms`): resolve the
// template and the person, then insert one message and its job, answering `{delivery_id, queued_at}`.
// An Idempotency-Key makes the same request answer the same for 24 h and send once; the same key
// with another body is refused. The key is claimed in the transaction that inserts the message, so 50
// concurrent requests with one key make one message.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { ttlCache } from '../../db/ttl-cache.ts';
import { AppError } from '../../errors.ts';
import type { ContentService } from '../content/index.ts';
import type { PeopleQueryService } from '../people/index.ts';
import type { SendRequest } from './compose-message.ts';
import { createDeliveryRepo } from './repo.ts';
import type { DeliveryService } from './service.ts';

const KEY_TTL_MS = 24 * 3600_000;

export interface TransactionalInput {
  channel: 'email' | 'sms';
  to?: string | undefined;
  transactional_message_id?: string | number | undefined;
  message_data?: Record<string, unknown> | undefined;
  identifiers?: { id?: string | number | undefined; email?: string | undefined; cio_id?: string | undefined } | undefined;
  from?: string | undefined;
  subject?: string | undefined;
  body?: string | undefined;
  plaintext_body?: string | undefined;
  preheader?: string | undefined;
  reply_to?: string | undefined;
  headers?: Record<string, string> | undefined;
  disable_message_retention?: boolean | undefined;
  send_to_unsubscribed?: boolean | undefined;
  /** Unix seconds: send no earlier than this. */
  send_at?: number | undefined;
  /** The translation to use. */
  language?: string | undefined;
}

export interface TransactionalAnswer { delivery_id: string; queued_at: number }

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function createTransactionalService(deps: {
  db: Db; clock: Clock; delivery: DeliveryService; content: ContentService; peopleQuery: PeopleQueryService;
}) {
  const { db, clock } = deps;
  // Every send names its template: the answers (found and published only) are kept per workspace for a
  // few seconds; content changes made by this process clear them at once.
  const templates = ttlCache<string, Map<string, Promise<string>>>(5_000, () => Promise.resolve(new Map<string, Promise<string>>()));
  deps.content.onChange((ws) => templates.forget(ws));

  async function template(ws: string, ref: string | number, channel: 'email' | 'sms'): Promise<string> {
    const known = await templates.get(ws);
    const key = `${channel}\n${String(ref)}`;
    let found = known.get(key);
    if (!found) {
      found = lookupTemplate(ws, ref, channel);
      known.set(key, found);
      found.catch(() => known.delete(key));
    }
    return found;
  }

  async function lookupTemplate(ws: string, ref: string | number, channel: 'email' | 'sms'): Promise<string> {
    const key = String(ref);
    const found = /^tpl_[0-9a-f]{20}$/.test(key)
      ? await deps.content.get(ws, 'template', key).catch(() => undefined)
      : await deps.content.getByName(ws, 'template', key);
    if (!found) throw new AppError('send.template_not_found', undefined, { field: 'transactional_message_id' });
    const channelOf = (found.published ?? found.draft).body['channel'];
    if (channelOf !== channel) {
      throw new AppError('content.wrong_channel', `transactional_message_id: this is a ${String(channelOf)} template.`, { field: 'transactional_message_id' });
    }
    if (found.publishedVersion === null) {
      throw new AppError('content.not_published', `transactional_message_id: the template "${found.name}" has never been published.`, { field: 'transactional_message_id' });
    }
    return found.id;
  }

  async function person(ws: string, ids: TransactionalInput['identifiers']): Promise<{ id: string; email: string | null; phone: string | null } | undefined> {
    if (!ids) return undefined;
    const lookup = async (key: string, by: 'userId' | 'email' | 'id') => {
      try {
        const p = await deps.peopleQuery.get(ws, key, by);
        return { id: p.id, email: p.email, phone: p.phone };
      } catch (err) {
        if (err instanceof AppError && err.code === 'person.not_found') return undefined;
        throw err;
      }
    };
    if (ids.id !== undefined) return lookup(String(ids.id), 'userId');
    if (ids.email !== undefined) return lookup(ids.email, 'email');
    if (ids.cio_id !== undefined) return lookup(ids.cio_id, 'id');
    return undefined;
  }

  return {
    async send(ws: string, input: TransactionalInput, idempotencyKey: string | undefined): Promise<TransactionalAnswer> {
      const route = `send:${input.channel}`;
      if (input.transactional_message_id === undefined && (input.channel === 'email' ? input.body === undefined || input.subject === undefined : input.body === undefined)) {
        throw new AppError('request.invalid', input.channel === 'email'
          ? 'transactional_message_id: give a template, or an inline subject and body' : 'transactional_message_id: give a template, or an inline body',
        { field: 'transactional_message_id' });
      }
      const templateId = input.transactional_message_id !== undefined ? await template(ws, input.transactional_message_id, input.channel) : null;
      const who = await person(ws, input.identifiers);
      const to = input.to ?? (input.channel === 'email' ? who?.email : who?.phone) ?? undefined;
      if (!to) throw new AppError('send.no_recipient', undefined, { field: 'to' });

      const request: SendRequest = {
        ...(templateId ? { templateId } : {}),
        ...(input.channel === 'email' && templateId === null ? {
          inline: {
            subject: input.subject ?? '', body: input.body ?? '',
            ...(input.plaintext_body !== undefined ? { plaintextBody: input.plaintext_body } : {}),
            ...(input.preheader !== undefined ? { preheader: input.preheader } : {}),
            ...(input.from !== undefined ? { from: input.from } : {}),
            ...(input.reply_to !== undefined ? { replyTo: input.reply_to } : {}),
          },
        } : {}),
        ...(input.channel === 'email' && templateId !== null && input.from !== undefined ? { inline: { subject: '', body: '', from: input.from } } : {}),
        ...(input.channel === 'sms' && templateId === null ? { sms: { body: input.body ?? '', ...(input.from ? { from: input.from } : {}) } } : {}),
        messageData: input.message_data ?? {},
        ...(input.language !== undefined ? { locale: input.language } : {}),
        ...(input.headers ? { headers: input.headers } : {}),
        sendToUnsubscribed: input.send_to_unsubscribed ?? false,
      };
      const hash = createHash('sha256').update(canonical(input)).digest('hex');

      const message = (at: Date) => ({
        source: 'transactional', channel: input.channel, to, personId: who?.id ?? null, templateId,
        request: request as Record<string, unknown>, retain: !(input.disable_message_retention ?? false),
        ...(input.send_at !== undefined ? { runAt: new Date(input.send_at * 1000) } : {}),
        idempotencyKey: idempotencyKey !== undefined ? `api:${route}:${idempotencyKey}:${at.getTime()}` : `api:${route}:${randomBytes(12).toString('hex')}`,
      });
      const answerFor = (m: { id: string; createdAt: Date }): TransactionalAnswer => ({ delivery_id: m.id, queued_at: Math.floor(m.createdAt.getTime() / 1000) });
      // Without a key there is nothing else to write: the message, its event and its job go in one statement.
      if (idempotencyKey === undefined) return answerFor((await deps.delivery.enqueueNow(ws, message(clock.now()))).message);

      return db.transaction().execute(async (tx) => {
        const repo = createDeliveryRepo(tx);
        const at = clock.now();
        if (!(await repo.claimKey(ws, route, idempotencyKey, hash, at))) {
          const prior = await repo.keyAnswer(ws, route, idempotencyKey);
          if (prior && at.getTime() - prior.createdAt.getTime() < KEY_TTL_MS) {
            if (prior.hash !== hash) throw new AppError('idempotency.key_reused', undefined, { field: 'Idempotency-Key' });
            return prior.response as TransactionalAnswer;
          }
          await repo.replaceKey(ws, route, idempotencyKey, hash, at);
        }
        const answer = answerFor((await deps.delivery.enqueue(tx, ws, message(at))).message);
        await repo.storeAnswer(ws, route, idempotencyKey, 200, answer);
        return answer;
      });
    },
  };
}

export type TransactionalService = ReturnType<typeof createTransactionalService>;
