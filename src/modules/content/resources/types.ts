// The four kinds of content resource and the zod schemas of their bodies (what each version stores).
import { z } from 'zod';
import type { PropField, PropsSchema } from '../starter/index.ts';

export const RESOURCE_KINDS = ['layout', 'component', 'snippet', 'template'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** The URL segment of each kind: /api/content/<plural>. */
export const KIND_PATH: Record<ResourceKind, string> = {
  layout: 'layouts', component: 'components', snippet: 'snippets', template: 'templates',
};

export const ID_PREFIX: Record<ResourceKind, string> = {
  layout: 'lay', component: 'cmp', snippet: 'snp', template: 'tpl',
};

const SOURCE_MAX = 500_000;
const source = z.string().max(SOURCE_MAX);
const line = z.string().max(1000);

/** Names are how layouts, components and snippets are referenced (and later, file names). */
export const resourceName = z.string().min(1).max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-", starting with a letter or digit');

export const layoutBody = z.object({
  mjml: source.describe('MJML + Liquid skeleton; {{ content }} marks the content slot'),
}).strict();

// A component's props schema, in the one format the composer validates props with
// (starter/props.ts PropField): stored components and the starter kit speak the same language.
const fieldBase = { label: line.optional(), optional: z.boolean().optional() };
const textField = z.object({
  type: z.enum(['text', 'richText']), ...fieldBase, maxLength: z.number().int().positive().optional(),
}).strict();
const plainField = z.object({ type: z.enum(['image', 'link', 'colour', 'boolean']), ...fieldBase }).strict();
const numberField = z.object({
  type: z.literal('number'), ...fieldBase,
  min: z.number().optional(), max: z.number().optional(), integer: z.boolean().optional(),
}).strict();
// Recursive: named, so the OpenAPI document can refer to it (components.schemas.ContentPropsSchema).
const propsSchema: z.ZodType<PropsSchema> = z.lazy(() => z.record(z.string().max(100), propField)).meta({ id: 'ContentPropsSchema' });
const listField = z.object({
  type: z.literal('list'), ...fieldBase, items: propsSchema.describe('The props of each item'),
  minItems: z.number().int().nonnegative().optional(), maxItems: z.number().int().positive().optional(),
}).strict();
const propField: z.ZodType<PropField> = z.discriminatedUnion('type', [textField, plainField, numberField, listField]);

export const componentBody = z.object({
  mjml: source.describe('MJML fragment + Liquid; props are available as {{ props.<name> }}'),
  props: propsSchema.describe('The typed props the component takes'),
  defaults: z.record(z.string().max(100), z.unknown()).optional().describe('Prop values a new block starts with'),
}).strict();

export const snippetBody = z.object({ liquid: source.describe('A reusable Liquid partial') }).strict();

const block = z.object({
  component: resourceName.describe('A component name'),
  props: z.record(z.string().max(100), z.unknown()).default({}),
}).strict();

const emailFields = z.object({
  subject: line,
  preheader: line.optional(),
  fromName: line.optional(),
  fromAddress: line.optional(),
  replyTo: line.optional(),
  layout: resourceName.optional().describe('A layout name'),
  blocks: z.array(block).max(200).optional(),
  code: z.object({ mjml: source.optional(), html: source.optional() }).strict().optional()
    .describe('Code mode: full MJML or HTML instead of blocks'),
}).strict();

type EmailFields = z.infer<typeof emailFields>;

/** The shape rules of an email body, also checked on a translation merged over its template. */
export function emailProblems(e: Partial<EmailFields>): Array<{ path: string[]; message: string }> {
  const out: Array<{ path: string[]; message: string }> = [];
  if (e.code && e.blocks) out.push({ path: ['code'], message: 'give blocks or code, not both' });
  if (e.code && (e.code.mjml === undefined) === (e.code.html === undefined)) {
    out.push({ path: ['code'], message: 'give exactly one of mjml or html' });
  }
  return out;
}

const emailBody = emailFields.superRefine((e, ctx) => {
  for (const p of emailProblems(e)) ctx.addIssue({ code: 'custom', ...p });
});

const smsBody = z.object({ body: z.string().max(10_000) }).strict();

const webhookBody = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  url: z.string().min(1).max(2000).describe('May contain Liquid'),
  headers: z.record(z.string().max(200), z.string().max(2000)).optional(),
  body: z.string().max(SOURCE_MAX).optional(),
}).strict();

const inAppBody = z.object({
  title: line,
  body: z.string().max(50_000),
  buttons: z.array(z.object({ label: line, url: z.string().max(2000).optional(), action: line.optional() }).strict())
    .max(5).optional(),
}).strict();

export const CHANNELS = ['email', 'sms', 'webhook', 'in_app'] as const;
export type Channel = (typeof CHANNELS)[number];

/** BCP 47-ish: `fr`, `pt-BR`, `zh-Hant-TW`. */
export const localeTag = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'a locale such as "fr" or "pt-BR"');

// A translation overrides fields of the channel's body for one locale (for email: subject,
// preheader, and the blocks or code as a whole); fields it leaves out come from the template.
const translation = z.object({
  email: emailFields.partial().strict().optional(),
  sms: smsBody.partial().strict().optional(),
  webhook: webhookBody.partial().strict().optional(),
  in_app: inAppBody.partial().strict().optional(),
}).strict();

export const templateBody = z.object({
  channel: z.enum(CHANNELS),
  marketing: z.boolean().describe('Marketing (needs consent and an unsubscribe link) or transactional'),
  topic: z.string().max(100).optional(),
  email: emailBody.optional(),
  sms: smsBody.optional(),
  webhook: webhookBody.optional(),
  in_app: inAppBody.optional(),
  translations: z.record(localeTag, translation).optional()
    .describe('Per-locale variants, chosen by the person\'s locale ("pt-BR", then "pt", then the template itself)'),
}).strict().superRefine((t, ctx) => {
  if (t[t.channel] === undefined) {
    ctx.addIssue({ code: 'custom', path: [t.channel], message: `required for channel "${t.channel}"` });
  }
  for (const [locale, variant] of Object.entries(t.translations ?? {})) {
    for (const other of CHANNELS) {
      if (other !== t.channel && variant[other] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['translations', locale, other], message: `this is a ${t.channel} template` });
      }
    }
    if (t.channel === 'email' && t.email && variant.email) {
      // A translation's blocks replace the code (and the other way round).
      const merged = { ...t.email, ...variant.email };
      if (variant.email.blocks) delete merged.code;
      if (variant.email.code) delete merged.blocks;
      for (const p of emailProblems(merged)) ctx.addIssue({ code: 'custom', ...p, path: ['translations', locale, 'email', ...p.path] });
    }
  }
});

export const BODY_SCHEMAS = {
  layout: layoutBody, component: componentBody, snippet: snippetBody, template: templateBody,
} as const;

export type LayoutBody = z.infer<typeof layoutBody>;
export type ComponentBody = z.infer<typeof componentBody>;
export type SnippetBody = z.infer<typeof snippetBody>;
export type TemplateBody = z.infer<typeof templateBody>;
export type EmailBody = z.infer<typeof emailBody>;
export type Translation = z.infer<typeof translation>;
export interface BodyOf {
  layout: LayoutBody;
  component: ComponentBody;
  snippet: SnippetBody;
  template: TemplateBody;
}

export interface ContentVersion {
  version: number;
  body: Record<string, unknown>;
  createdAt: Date;
  publishedAt: Date | null;
}

export interface ContentResource {
  id: string;
  kind: ResourceKind;
  name: string;
  draftVersion: number;
  publishedVersion: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ContentResourceDetail extends ContentResource {
  draft: ContentVersion;
  published: ContentVersion | null;
}
