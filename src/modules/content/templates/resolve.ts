// From a stored template body to what the renderer takes: the translation for the person's locale,
// then (email) the layout and blocks composed into one MJML document, with snippets as partials.
// Pure: the service loads the resources and versions; nothing here touches the database.
import { composeEmail, type ComponentDef } from '../compose.ts';
import type { TemplateSource } from '../render/index.ts';
import type { ComponentBody, EmailBody, LayoutBody, SnippetBody, TemplateBody } from '../resources/index.ts';

/** A layout, component or snippet at the version chosen for this render. */
export interface Dependency<B> {
  id: string;
  name: string;
  version: number;
  body: B;
  /** True when the chosen version is an unpublished draft (previews only). */
  draft: boolean;
}

export interface Dependencies {
  layouts: ReadonlyMap<string, Dependency<LayoutBody>>;
  components: ReadonlyMap<string, Dependency<ComponentBody>>;
  snippets: ReadonlyMap<string, Dependency<SnippetBody>>;
}

/** Used when an email in block mode names no layout: just the blocks. */
export const BARE_LAYOUT = '<mjml>\n  <mj-body>\n    {{ content }}\n  </mj-body>\n</mjml>';

/**
 * The translation to use for `wanted`: an exact match ("pt-BR"), then the language alone ("pt"),
 * else null (the template's own content). Case-insensitive.
 */
export function chooseLocale(body: TemplateBody, wanted: string | null | undefined): string | null {
  const keys = Object.keys(body.translations ?? {});
  if (!wanted || keys.length === 0) return null;
  const lower = wanted.toLowerCase();
  const exact = keys.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  const language = lower.split('-')[0];
  return keys.find((k) => k.toLowerCase() === language) ?? null;
}

/** The template's body for its channel with the translation for `locale` laid over it. */
export function localised<C extends TemplateBody['channel']>(body: TemplateBody & { channel: C }, locale: string | null): NonNullable<TemplateBody[C]> {
  const base = body[body.channel] as NonNullable<TemplateBody[C]>;
  const variant = locale === null ? undefined : body.translations?.[locale]?.[body.channel];
  if (!variant) return base;
  const merged = { ...base, ...variant } as Record<string, unknown>;
  if (body.channel === 'email') {
    // Blocks and code replace each other as a whole.
    if ((variant as Partial<EmailBody>).blocks) delete merged['code'];
    if ((variant as Partial<EmailBody>).code) delete merged['blocks'];
  }
  return merged as NonNullable<TemplateBody[C]>;
}

/** The names of the layout and components an email body uses. */
export function emailNeeds(email: EmailBody): { layout: string | null; components: string[] } {
  if (email.code) return { layout: null, components: [] };
  return { layout: email.layout ?? null, components: [...new Set((email.blocks ?? []).map((b) => b.component))] };
}

export function partialsOf(deps: Dependencies): Map<string, string> {
  return new Map([...deps.snippets].map(([name, s]) => [name, s.body.liquid]));
}

/** The renderer's source for an email (without the cache key). Errors name the failing block. */
export function emailSource(email: EmailBody, deps: Dependencies): Omit<TemplateSource, 'key'> {
  const common = {
    subject: email.subject,
    ...(email.preheader !== undefined ? { preheader: email.preheader } : {}),
    partials: partialsOf(deps),
  };
  if (email.code?.html !== undefined) return { ...common, html: email.code.html };
  if (email.code?.mjml !== undefined) return { ...common, mjml: email.code.mjml };
  const layout = email.layout === undefined ? BARE_LAYOUT : deps.layouts.get(email.layout)?.body.mjml;
  if (layout === undefined) throw new Error(`layout ${email.layout ?? ''} was not loaded`);
  const components = new Map<string, ComponentDef>();
  for (const [name, c] of deps.components) {
    components.set(name, { name, mjml: c.body.mjml, schema: c.body.props, ...(c.body.defaults ? { defaults: c.body.defaults } : {}) });
  }
  return { ...common, mjml: composeEmail({ layout: { mjml: layout }, blocks: email.blocks ?? [], components }) };
}

/** The Liquid strings of a non-email channel body, by part name ('sms.body', 'webhook.headers.X'…). */
export function textParts(body: TemplateBody, locale: string | null): Record<string, string> {
  switch (body.channel) {
    case 'email': {
      const e = localised(body as TemplateBody & { channel: 'email' }, locale);
      return { 'email.subject': e.subject, ...(e.preheader !== undefined ? { 'email.preheader': e.preheader } : {}) };
    }
    case 'sms':
      return { 'sms.body': localised(body as TemplateBody & { channel: 'sms' }, locale).body };
    case 'webhook': {
      const w = localised(body as TemplateBody & { channel: 'webhook' }, locale);
      const headers = Object.fromEntries(Object.entries(w.headers ?? {}).map(([k, v]) => [`webhook.headers.${k}`, v]));
      return { 'webhook.url': w.url, ...headers, ...(w.body !== undefined ? { 'webhook.body': w.body } : {}) };
    }
    case 'in_app': {
      const a = localised(body as TemplateBody & { channel: 'in_app' }, locale);
      const buttons = (a.buttons ?? []).flatMap((b, i) => [
        [`in_app.buttons[${i}].label`, b.label] as const,
        ...(b.url !== undefined ? [[`in_app.buttons[${i}].url`, b.url] as const] : []),
      ]);
      return { 'in_app.title': a.title, 'in_app.body': a.body, ...Object.fromEntries(buttons) };
    }
  }
}
