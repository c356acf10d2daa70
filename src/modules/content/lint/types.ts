// What the linter reads and what it reports. Rule ids are stable: the editor, the API and the
// publish check key on them. Errors block publishing; warnings do not.
import type { Renderer, TemplateSource } from '../render/index.ts';
import type { KnownNames } from './known.ts';

export type LintChannel = 'email' | 'sms' | 'webhook' | 'in_app';

export interface LintInput {
  channel: LintChannel;
  marketing: boolean;
  /** Email: the composed source, ready for renderer.compile (mjml or html, subject, preheader, partials). */
  email?: TemplateSource;
  /**
   * Other channels (and email fields outside the body): named Liquid strings, e.g. { 'sms.body': '…' },
   * { 'webhook.url': …, 'webhook.body': …, 'webhook.headers.X-Y': … }, { 'in_app.title': … }.
   */
  liquid?: Record<string, string>;
  renderer: Renderer;
  /** Names seen in the event catalog; null = catalog unknown, skip the variable rule. */
  known: KnownNames | null;
  /** URL prefixes that count as hosted by Tandem, e.g. [`${publicUrl}/assets/`]. */
  hostedAssetPrefixes: readonly string[];
}

export const LINT_RULES = [
  'liquid.syntax',
  'template.invalid',
  'mjml.invalid',
  'unsubscribe.missing',
  'image.external',
  'image.alt_missing',
  'link.insecure',
  'link.unsafe_scheme',
  'link.unguarded',
  'html.too_large',
  'variable.unknown',
] as const;
export type LintRule = (typeof LINT_RULES)[number];

export interface LintFinding {
  rule: LintRule;
  severity: 'error' | 'warning';
  message: string;
  /** 'body', 'subject', 'preheader', 'partials.<name>', or a `liquid` key such as 'sms.body'. */
  part?: string;
  line?: number;
  column?: number;
  field?: string;
  url?: string;
}
