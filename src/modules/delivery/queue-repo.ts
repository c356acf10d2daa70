// SQL of the send queue (the messages table): a send job claims a batch of due messages in one
// statement, and the outcomes of many attempts are written in one statement (the message rows and
// their timeline events together).
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import { toMessage } from './repo.ts';
import type { MessageRow, MessageStatus } from './types.ts';

/** What one attempt ended in, as written to its message row and timeline. */
export interface Outcome {
  id: string;
  status: MessageStatus;
  /** The timeline event's type (the status, for every outcome of an attempt). */
  type: string;
  data: Record<string, unknown>;
  /** Kept as it was when undefined. */
  statusReason?: string | undefined;
  /** A sent message: what went out, and through what (null content: not retained). */
  sent?: {
    senderId: string; provider: string; providerMessageId: string; sentAt: Date; templateVersion: number | null;
    /** Kept as it was when null (an SMS has none). */
    fromAddress: string | null;
    subject: string | null; html: string | null; text: string | null;
  } | undefined;
}

type Row = Parameters<typeof toMessage>[0];

export function createQueueRepo(db: Queryable) {
  return {
    /**
     * One statement: the job's own message (queued, retrying, or sending under this lease: an attempt
     * the job's earlier run did not finish), the other messages still sending under this lease, and up
     * to `limit` more queued messages of the workspace that are due. Each becomes `sending` under the
     * lease with its attempt counted before any provider sees it. SKIP LOCKED: two jobs claiming at once
     * take different messages; a message row changed meanwhile is checked again against its condition.
     */
    async claimBatch(ws: string, ownId: string, lease: string, now: Date, limit: number): Promise<MessageRow[]> {
      const res = await sql<Row>`
        WITH own AS (
          SELECT workspace_id, id FROM messages
          WHERE workspace_id = ${ws} AND id = ${ownId}
            AND (status IN ('queued', 'retrying') OR (status = 'sending' AND (lease = ${lease} OR lease IS NULL)))
          FOR UPDATE SKIP LOCKED
        ), mine AS (
          SELECT workspace_id, id FROM messages WHERE status = 'sending' AND lease = ${lease}
          FOR UPDATE SKIP LOCKED
        ), due AS (
          SELECT workspace_id, id FROM messages
          WHERE workspace_id = ${ws} AND status = 'queued' AND due_at <= ${now}
          ORDER BY due_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ), picked AS (
          SELECT * FROM own UNION SELECT * FROM mine UNION SELECT * FROM due
        )
        UPDATE messages m SET status = 'sending', attempts = m.attempts + 1, lease = ${lease}, due_at = NULL, updated_at = ${now}
        FROM picked p WHERE m.workspace_id = p.workspace_id AND m.id = p.id
        RETURNING m.*`.execute(db);
      return res.rows.map(toMessage);
    },

    /**
     * A queued message, its `queued` event and its send job, in one statement (so without a transaction
     * of the caller's); undefined when the idempotency key is taken. The job is added as enqueueJob()
     * adds it (src/worker/jobs.ts).
     */
    async insertQueued(ws: string, m: MessageRow & { dueAt: Date }, job: { task: string; key: string; runAt: Date | null }): Promise<MessageRow | undefined> {
      const res = await sql<Row>`
        WITH m AS (
          INSERT INTO messages (workspace_id, id, idempotency_key, person_id, channel, source, template_id, template_version, to_address,
            request, retain, status, created_at, updated_at, due_at)
          VALUES (${ws}, ${m.id}, ${m.idempotencyKey}, ${m.personId}::uuid, ${m.channel}, ${m.source}, ${m.templateId}, NULL, ${m.to},
            ${JSON.stringify(m.request)}::jsonb, ${m.retain}, 'queued', ${m.createdAt}, ${m.createdAt}, ${m.dueAt})
          ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
          RETURNING *
        ), e AS (
          INSERT INTO message_events (workspace_id, message_id, type, at, data)
          SELECT workspace_id, id, 'queued', created_at, '{}'::jsonb FROM m
        ), j AS (
          SELECT graphile_worker.add_job(identifier => ${job.task}::text, payload => json_build_object('workspaceId', m.workspace_id, 'messageId', m.id),
            run_at => ${job.runAt}::timestamptz, job_key => ${job.key}::text) FROM m
        )
        SELECT m.* FROM m WHERE (SELECT count(*) FROM j) >= 0`.execute(db);
      const row = res.rows[0];
      return row && toMessage(row);
    },

    /** The outcomes of many attempts in one statement: each message row, and one timeline event each. */
    async recordOutcomes(ws: string, outcomes: readonly Outcome[], at: Date): Promise<void> {
      if (outcomes.length === 0) return;
      const rows = outcomes.map((o) => {
        const s = o.sent;
        return sql`(${o.id}::text, ${o.status}::text, ${o.statusReason ?? null}::text, ${s !== undefined}::boolean,
          ${s?.senderId ?? null}::text, ${s?.provider ?? null}::text, ${s?.providerMessageId ?? null}::text, ${s?.fromAddress ?? null}::text,
          ${s?.subject ?? null}::text, ${s?.html ?? null}::text, ${s?.text ?? null}::text, ${s?.sentAt ?? null}::timestamptz,
          ${s?.templateVersion ?? null}::int, ${o.type}::text, ${JSON.stringify(o.data)}::jsonb)`;
      });
      await sql`
        WITH v (id, status, status_reason, sent, sender_id, provider, provider_message_id, from_address, subject, html, text, sent_at,
                template_version, type, data) AS (VALUES ${sql.join(rows)}),
        u AS (
          UPDATE messages m SET
            status = v.status,
            status_reason = COALESCE(v.status_reason, m.status_reason),
            sender_id = CASE WHEN v.sent THEN v.sender_id ELSE m.sender_id END,
            provider = CASE WHEN v.sent THEN v.provider ELSE m.provider END,
            provider_message_id = CASE WHEN v.sent THEN v.provider_message_id ELSE m.provider_message_id END,
            from_address = COALESCE(v.from_address, m.from_address),
            subject = CASE WHEN v.sent THEN v.subject ELSE m.subject END,
            html = CASE WHEN v.sent THEN v.html ELSE m.html END,
            text = CASE WHEN v.sent THEN v.text ELSE m.text END,
            sent_at = CASE WHEN v.sent THEN v.sent_at ELSE m.sent_at END,
            template_version = CASE WHEN v.sent THEN v.template_version ELSE m.template_version END,
            updated_at = ${at}
          FROM v WHERE m.workspace_id = ${ws} AND m.id = v.id
        )
        INSERT INTO message_events (workspace_id, message_id, type, at, data)
        SELECT ${ws}, v.id, v.type, ${at}, v.data FROM v`.execute(db);
    },
  };
}
