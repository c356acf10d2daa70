// Senders per workspace: SMTP (any provider, nodemailer's pooled transport) or an HTTP provider
// (SES, Postmark, SendGrid, Mailgun, Resend) for email, Twilio for SMS; one default per channel,
// with a rate and a concurrency limit. Without one, email goes through TANDEM_SMTP_URL, else the
// dev inbox. Inbound bounce webhooks name the sender, whose `inbound` settings hold their secrets.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { ttlCache } from '../../db/ttl-cache.ts';
import { AppError } from '../../errors.ts';
import { secret, secretMasker } from '../../secrets.ts';
import { inboundSecrets } from './inbound/index.ts';
import { createEmailProvider, createSmsProvider, emailProviderConfigSchema, smsProviderConfigSchema, type ProviderDeps, type SmsProvider } from './providers/index.ts';
import { createSmtpSender, smtpConnection, type EmailSender } from './smtp.ts';
import { checkHostOnSave, outboundPolicy, type Resolver } from '../../net/index.ts';
import type { SenderRow } from './types.ts';

const smtpConfig = z.strictObject({
  kind: z.literal('smtp'),
  url: secret(z.string().regex(/^smtps?:\/\/[^\s]+$/, 'smtp://user:pass@host:port or smtps://…').max(2000), 'url-password'),
  poolSize: z.number().int().min(1).max(50).optional(),
});

const senderConfig = z.union([smtpConfig, emailProviderConfigSchema, smsProviderConfigSchema]);

export const senderInput = z.strictObject({
  name: z.string().min(1).max(100),
  channel: z.enum(['email', 'sms']),
  config: senderConfig.describe('kind: smtp | ses | postmark | sendgrid | mailgun | resend | twilio, and its settings'),
  inbound: inboundSecrets,
  from: z.string().min(1).max(320).optional().describe('Email: the From ("Name <address>") of messages that name none, before the workspace fromAddress. SMS: the number (E.164) messages come from, unless the config names a Messaging Service'),
  isDefault: z.boolean().default(true),
  ratePerSecond: z.number().positive().max(100_000).default(50),
  concurrency: z.number().int().min(1).max(500).default(5),
}).superRefine((s, ctx) => {
  const smsKind = s.config.kind === 'twilio';
  if (smsKind !== (s.channel === 'sms')) ctx.addIssue({ code: 'custom', path: ['config', 'kind'], message: `${s.config.kind} is not a ${s.channel} sender` });
});
export type SenderInput = z.infer<typeof senderInput>;

export interface SenderView extends Omit<SenderRow, 'config'> {
  kindOf: string;
  /** The config without secrets. */
  settings: Record<string, unknown>;
}

/** Every answer that shows a sender's settings masks its secrets with this (src/secrets.ts). */
const maskSettings = secretMasker(senderConfig, z.object({ inbound: inboundSecrets }));

export function createSenderService(deps: {
  db: Db; clock: Clock; providerDeps?: ProviderDeps;
  /** config.outboundAllowPrivate: senders arrive through the API, so their hosts are checked with it. */
  allowPrivate: boolean | readonly string[];
  resolve?: Resolver;
}) {
  const { db, clock } = deps;
  const policy = outboundPolicy(deps.allowPrivate);
  // Built transports, per sender id and version (updated_at): a changed sender gets a new one.
  const built = new Map<string, { version: number; email?: EmailSender; sms?: SmsProvider }>();
  // The default sender row per workspace and channel, for a few seconds (every send asks). Changes made
  // by this process clear it (before and after the write); other processes see them within 5 s.
  const defaults = ttlCache<string, SendersRowIn | undefined>(5_000, (key) => {
    const [ws = '', channel = ''] = key.split('/');
    return db.selectFrom('senders').selectAll().where('workspace_id', '=', ws).where('channel', '=', channel as 'email' | 'sms')
      .where('is_default', '=', true).executeTakeFirst();
  });
  const forget = (ws: string) => {
    defaults.forget(`${ws}/email`);
    defaults.forget(`${ws}/sms`);
  };

  const view = (r: SenderRow): SenderView => {
    const { config, ...rest } = r;
    return { ...rest, kindOf: r.kind, settings: maskSettings(config) };
  };

  return {
    async create(ws: string, input: SenderInput): Promise<SenderView> {
      const parsed = senderInput.parse(input);
      if (parsed.config.kind === 'smtp') {
        let host: string;
        try {
          host = smtpConnection(parsed.config.url).host;
        } catch {
          throw new AppError('request.invalid', 'config.url: not a valid smtp:// or smtps:// URL', { field: 'config.url' });
        }
        await checkHostOnSave(host, policy, 'config.url', deps.resolve);
      }
      const at = clock.now();
      const id = `snd_${randomBytes(10).toString('hex')}`;
      forget(ws);
      await db.transaction().execute(async (tx) => {
        if (parsed.isDefault) {
          await tx.updateTable('senders').set({ is_default: false }).where('workspace_id', '=', ws).where('channel', '=', parsed.channel).execute();
        }
        await tx.insertInto('senders').values({
          workspace_id: ws, id, channel: parsed.channel, kind: parsed.config.kind, name: parsed.name,
          config: JSON.stringify({ ...parsed.config, ...(parsed.inbound ? { inbound: parsed.inbound } : {}), ...(parsed.from ? { from: parsed.from } : {}) }),
          is_default: parsed.isDefault, rate_per_second: parsed.ratePerSecond, concurrency: parsed.concurrency, created_at: at, updated_at: at,
        }).execute();
      });
      forget(ws);
      return view((await this.get(ws, id))!);
    },

    async list(ws: string): Promise<SenderView[]> {
      const rows = await db.selectFrom('senders').selectAll().where('workspace_id', '=', ws).orderBy('created_at').execute();
      return rows.map((r) => view(toSender(r)));
    },

    async get(ws: string, id: string): Promise<SenderRow | undefined> {
      const row = await db.selectFrom('senders').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      return row && toSender(row);
    },

    /** A sender by id alone (inbound webhook URLs carry only the sender id). */
    async findAnywhere(id: string): Promise<{ workspaceId: string; sender: SenderRow } | undefined> {
      const row = await db.selectFrom('senders').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { workspaceId: row.workspace_id, sender: toSender(row) };
    },

    async remove(ws: string, id: string): Promise<void> {
      forget(ws);
      const res = await db.deleteFrom('senders').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      forget(ws);
      if (res.numDeletedRows === 0n) throw new AppError('sender.not_found', undefined, { field: 'id' });
      built.delete(id);
    },

    async setStatus(ws: string, id: string, status: 'active' | 'paused', reason: string | null): Promise<void> {
      forget(ws);
      await db.updateTable('senders').set({ status, paused_reason: reason, updated_at: clock.now() }).where('workspace_id', '=', ws).where('id', '=', id).execute();
      forget(ws);
    },

    /** The workspace's default sender of the channel, as something that sends (undefined: none configured). */
    async defaultFor(ws: string, channel: 'email' | 'sms'): Promise<{ row: SenderRow; email?: EmailSender; sms?: SmsProvider } | undefined> {
      const row = await defaults.get(`${ws}/${channel}`);
      if (!row) return undefined;
      const sender = toSender(row);
      const version = row.updated_at.getTime();
      let entry = built.get(sender.id);
      if (!entry || entry.version !== version) {
        await entry?.email?.close?.();
        const { inbound: _inbound, from: _from, ...config } = sender.config;
        entry = { version };
        if (sender.kind === 'smtp') entry.email = createSmtpSender({ ...smtpConfig.parse(config), allowPrivate: policy, ...(deps.resolve ? { resolve: deps.resolve } : {}) });
        else if (channel === 'email') entry.email = createEmailProvider(emailProviderConfigSchema.parse(config), deps.providerDeps);
        else entry.sms = createSmsProvider(smsProviderConfigSchema.parse(config), deps.providerDeps);
        built.set(sender.id, entry);
      }
      return { row: sender, ...(entry.email ? { email: entry.email } : {}), ...(entry.sms ? { sms: entry.sms } : {}) };
    },

    async close(): Promise<void> {
      for (const e of built.values()) await e.email?.close?.();
      built.clear();
    },
  };
}

type SendersRowIn = Parameters<typeof toSender>[0] & { updated_at: Date };

function toSender(r: {
  id: string; channel: 'email' | 'sms'; kind: string; name: string; config: Record<string, unknown>; is_default: boolean;
  rate_per_second: string; concurrency: number; status: 'active' | 'paused'; paused_reason: string | null;
}): SenderRow {
  return {
    id: r.id, channel: r.channel, kind: r.kind, name: r.name, config: r.config, isDefault: r.is_default,
    ratePerSecond: Number(r.rate_per_second), concurrency: r.concurrency, status: r.status, pausedReason: r.paused_reason,
  };
}

export type SenderService = ReturnType<typeof createSenderService>;
