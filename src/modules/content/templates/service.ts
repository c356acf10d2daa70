// Stored templates, rendered: for a send (published versions only), for a preview as a real person or
// sample data, as a test send to the dev inbox, and before/after a component change.
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/pool.ts';
import { AppError } from '../../../errors.ts';
import type { DevInboxMessage } from '../../devinbox/index.ts';
import type { WorkspaceService } from '../../workspaces/index.ts';
import { buildRenderData, type Renderer, type RenderContextInput, type RenderPerson, type RenderWarning } from '../render/index.ts';
import type { TemplateBody } from '../resources/index.ts';
import { createTemplateLoader, type Mode, type Selection, type VersionChoice } from './loader.ts';
import { chooseLocale, emailSource, localised, partialsOf, textParts } from './resolve.ts';

export interface RenderOptions {
  /** Default: 'published' when sending, 'draft' when previewing. */
  version?: VersionChoice | undefined;
  mode: Mode;
  /** Force a locale; by default the person's, then the workspace's default. */
  locale?: string | undefined;
  context: RenderContextInput;
  /** Component id -> version to use instead of the published one (change previews). */
  componentVersions?: ReadonlyMap<string, number> | undefined;
}

export interface RenderedMessage {
  templateId: string;
  templateName: string;
  version: number;
  channel: TemplateBody['channel'];
  marketing: boolean;
  topic: string | null;
  /** The translation used; null = the template's own content. */
  locale: string | null;
  email?: {
    subject: string; preheader: string | null; fromName: string | null; fromAddress: string | null; replyTo: string | null; html: string; text: string;
    /** true when the template names its own from address; false when it is the workspace's (a sender's own from goes first then). */
    fromOwn: boolean;
  };
  sms?: { body: string };
  webhook?: { method: string; url: string; headers: Record<string, string>; body: string | null };
  in_app?: { title: string; body: string; buttons: Array<{ label: string; url: string | null; action: string | null }> };
  warnings: RenderWarning[];
}

export interface DevInboxSink {
  deliver(workspaceId: string, m: Omit<DevInboxMessage, 'id' | 'createdAt'>): Promise<DevInboxMessage>;
}

export interface TestSent { senderId: string; provider: string; providerMessageId: string }
/** Sends a rendered test email through the workspace's sender; undefined when it has none. */
export type TestSender = (ws: string, e: {
  to: string; from: { address: string; name?: string }; fromExplicit: boolean; replyTo?: string; subject: string; html: string; text: string;
}) => Promise<TestSent | undefined>;

export function createTemplateRenderService(deps: {
  db: Db; renderer: Renderer; workspaces: WorkspaceService; devInbox: DevInboxSink; config: Pick<Config, 'publicUrl'>;
}) {
  const { renderer, workspaces } = deps;
  const loader = createTemplateLoader({ db: deps.db });
  let testSender: TestSender | undefined;

  async function workspaceData(workspaceId: string): Promise<{ data: Record<string, unknown>; defaultLocale: string | null }> {
    // Read by every send: a few seconds old at most (this process's changes show at once).
    const ws = await workspaces.get(workspaceId, { maxAgeMs: 5_000 });
    const s = ws.settings;
    return {
      data: {
        id: ws.id, name: ws.name, postal_address: s.postalAddress ?? '', from_name: s.fromName ?? '',
        from_address: s.fromAddress ?? '', reply_to: s.replyTo ?? '',
      },
      defaultLocale: s.defaultLocale ?? null,
    };
  }

  async function render(workspaceId: string, templateId: string, opts: RenderOptions): Promise<RenderedMessage> {
    const ws = await workspaceData(workspaceId);
    const person = opts.context.person;
    const wanted = opts.locale ?? person?.locale ?? stringAttr(person, 'locale') ?? ws.defaultLocale;
    // The locale decides which layout/components are needed, so choose it from a first look at the body.
    const first = await loader.select(workspaceId, templateId, {
      version: opts.version ?? (opts.mode === 'send' ? 'published' : 'draft'), mode: opts.mode, locale: null,
      componentVersions: opts.componentVersions,
    });
    const locale = chooseLocale(first.body, wanted);
    const s = locale === null ? first : await loader.select(workspaceId, templateId, {
      version: first.version, mode: opts.mode, locale, componentVersions: opts.componentVersions,
    });
    const data = buildRenderData({ ...opts.context, workspace: { ...ws.data, ...opts.context.workspace } });
    const base = {
      templateId: s.template.id, templateName: s.template.name, version: s.version, channel: s.body.channel,
      marketing: s.body.marketing, topic: s.body.topic ?? null, locale,
    };
    if (s.body.channel === 'email') {
      const email = localised(s.body as TemplateBody & { channel: 'email' }, locale);
      const compiled = await renderer.compileWith(s.key, async () => emailSource(email, await loader.dependencies(workspaceId, s)));
      const out = await renderer.renderCompiled(compiled, data);
      const settings = ws.data;
      return {
        ...base,
        email: {
          subject: out.subject, preheader: email.preheader ?? null,
          fromName: email.fromName ?? (nonEmpty(settings['from_name']) ?? null),
          fromAddress: email.fromAddress ?? (nonEmpty(settings['from_address']) ?? null),
          fromOwn: nonEmpty(email.fromAddress) !== undefined,
          replyTo: email.replyTo ?? (nonEmpty(settings['reply_to']) ?? null),
          html: out.html, text: out.text,
        },
        warnings: [...s.warnings, ...out.warnings],
      };
    }
    const partials = partialsOf(await loader.dependencies(workspaceId, s));
    const texts = await renderer.renderTexts(renderer.compileTexts(s.key, textParts(s.body, locale), partials), data);
    return { ...base, ...channelOutput(s, locale, texts), warnings: s.warnings };
  }

  return {
    render,
    loader,

    /** The workspace's content changed here: the next send reads it afresh. */
    forget(workspaceId: string): void {
      loader.forget(workspaceId);
    },

    /** How email test sends reach a real sender (delivery, wired in wiring.ts); without it they go to the dev inbox. */
    useTestSender(sender: TestSender): void {
      testSender = sender;
    },

    /**
     * Test send: renders like a preview; email goes through the workspace's sender when one exists,
     * else (and SMS always) to the dev inbox.
     */
    async testSend(workspaceId: string, templateId: string, to: string, opts: Omit<RenderOptions, 'mode'>): Promise<{ message: DevInboxMessage | null; sent: TestSent | null; rendered: RenderedMessage }> {
      const rendered = await render(workspaceId, templateId, { ...opts, mode: 'preview' });
      if (rendered.channel !== 'email' && rendered.channel !== 'sms') {
        throw new AppError('content.wrong_channel', 'Test sends are for email and SMS templates.', { field: 'to' });
      }
      const email = rendered.email;
      if (email && testSender) {
        const sent = await testSender(workspaceId, {
          to, subject: `[Test] ${email.subject}`, html: email.html, text: email.text, fromExplicit: email.fromOwn,
          from: { address: email.fromAddress ?? `no-reply@${new URL(deps.config.publicUrl).hostname}`, ...(email.fromName ? { name: email.fromName } : {}) },
          ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        });
        if (sent) return { message: null, sent, rendered };
      }
      const from = email?.fromAddress ? (email.fromName ? `${email.fromName} <${email.fromAddress}>` : email.fromAddress) : null;
      const message = await deps.devInbox.deliver(workspaceId, {
        channel: rendered.channel, source: 'test', to, from,
        subject: email ? `[Test] ${email.subject}` : null,
        html: email?.html ?? null, text: email?.text ?? rendered.sms?.body ?? null,
        meta: { templateId, templateName: rendered.templateName, version: rendered.version, locale: rendered.locale },
      });
      return { message, sent: null, rendered };
    },

    /** The compiled HTML (Liquid not yet run) of the published version, else the latest draft. */
    async compiledHtml(workspaceId: string, templateId: string): Promise<string | undefined> {
      let s: Selection;
      try {
        const first = await loader.select(workspaceId, templateId, { version: 'draft', mode: 'preview', locale: null });
        s = first.template.publishedVersion === null ? first
          : await loader.select(workspaceId, templateId, { version: 'published', mode: 'preview', locale: null });
      } catch (err) {
        if (err instanceof AppError && err.code === 'content.not_found') return undefined;
        throw err;
      }
      if (s.body.channel !== 'email') return undefined;
      const email = localised(s.body as TemplateBody & { channel: 'email' }, null);
      const compiled = await renderer.compileWith(s.key, async () => emailSource(email, await loader.dependencies(workspaceId, s)));
      return compiled.html;
    },
  };
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function stringAttr(person: RenderPerson | undefined, name: string): string | undefined {
  const v = person?.attributes?.[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function channelOutput(s: Selection, locale: string | null, t: Record<string, string>): Partial<RenderedMessage> {
  const body = s.body;
  switch (body.channel) {
    case 'sms':
      return { sms: { body: t['sms.body'] ?? '' } };
    case 'webhook': {
      const w = localised(body as TemplateBody & { channel: 'webhook' }, locale);
      const headers = Object.fromEntries(Object.keys(w.headers ?? {}).map((k) => [k, t[`webhook.headers.${k}`] ?? '']));
      return { webhook: { method: w.method, url: t['webhook.url'] ?? '', headers, body: t['webhook.body'] ?? null } };
    }
    case 'in_app': {
      const a = localised(body as TemplateBody & { channel: 'in_app' }, locale);
      const buttons = (a.buttons ?? []).map((b, i) => ({
        label: t[`in_app.buttons[${i}].label`] ?? '', url: b.url !== undefined ? (t[`in_app.buttons[${i}].url`] ?? '') : null, action: b.action ?? null,
      }));
      return { in_app: { title: t['in_app.title'] ?? '', body: t['in_app.body'] ?? '', buttons } };
    }
    case 'email':
      return {};
  }
}

export type TemplateRenderService = ReturnType<typeof createTemplateRenderService>;
