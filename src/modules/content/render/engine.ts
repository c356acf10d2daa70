// The rendering pipeline, as it runs inside a pool thread (worker.ts). Per template version: check
// the Liquid of the source as written (so syntax errors point at the author's lines), compile MJML to
// HTML with CSS inlined, derive the plain-text template, and parse all of it with a safe Liquid
// engine. Per person only Liquid runs, over the compiled HTML, text and subject. Nothing here is
// cached or bounded in wall time: the thread keeps the cache and the pool enforces the deadline.
import type { Template } from 'liquidjs';
import { AppError } from '../../../errors.ts';
import { toTemplateError, type Locate } from './errors.ts';
import { createSafeLiquid, type PartialMap, type RenderLimits, type SafeLiquid } from './liquid.ts';
import { compileMjml, type RenderWarning } from './mjml.ts';
import type { RenderData } from './scope.ts';
import { neutraliseUnsafeLinks } from './safe-links.ts';
import { htmlToTextTemplate, tidyText } from './text.ts';

export interface TemplateSource {
  /**
   * Identifies this exact content: template version plus the versions of its layout, components
   * and snippets (for example "tpl:42@7/layout:3@2/…" or a hash). A new key means a new compile.
   */
  key: string;
  /** MJML with Liquid; or `html` (HTML with Liquid) for code-mode templates. */
  mjml?: string;
  html?: string;
  subject?: string;
  preheader?: string;
  /** Snippets and components by name, for {% render 'name' %} / {% include 'name' %}. */
  partials?: PartialMap | Readonly<Record<string, string>>;
}

export interface RenderInput extends TemplateSource {
  data: RenderData | Record<string, unknown>;
}

export interface RenderResult {
  subject: string;
  html: string;
  text: string;
  warnings: RenderWarning[];
}

export interface EngineTemplate {
  readonly key: string;
  readonly html: string;
  readonly warnings: readonly RenderWarning[];
  readonly engine: SafeLiquid;
  /** Subject, HTML and text as one Liquid template (one render, one budget), split by the engine's separator. */
  readonly combined: Template[];
  readonly locate: Locate;
}

export interface EngineTexts {
  readonly key: string;
  readonly engine: SafeLiquid;
  readonly templates: ReadonlyMap<string, Template[]>;
}


const PREHEADER_STYLE =
  'display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;';

function toPartialMap(partials: TemplateSource['partials']): PartialMap {
  if (!partials) return new Map();
  if (partials instanceof Map) return partials as PartialMap;
  return new Map(Object.entries(partials as Record<string, string>));
}

// Put the preheader first in <body>, hidden; the text part skips it by its class.
function withPreheader(html: string, preheader: string): string {
  const div = `<div class="tandem-preheader" style="${PREHEADER_STYLE}">${preheader}</div>`;
  const body = /<body[^>]*>/i.exec(html);
  if (!body) return div + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + div + html.slice(at);
}

/** Every size check that needs no parsing: run before anything reads the template. */
export function checkSizes(source: Omit<TemplateSource, 'key'>, limits: RenderLimits): void {
  const body = source.mjml ?? source.html;
  if (body === undefined) throw new AppError('request.invalid', 'A template needs mjml or html.', { field: 'mjml' });
  if (source.mjml !== undefined && source.mjml.length > limits.mjmlChars) {
    throw new AppError('template.too_large', `The MJML source is over ${limits.mjmlChars} characters.`, { part: 'body' });
  }
  for (const [part, text] of [['body', body], ['subject', source.subject ?? ''], ['preheader', source.preheader ?? '']] as const) {
    if (text.length > limits.parseChars) throw new AppError('template.too_large', undefined, { part });
  }
  checkPartialSizes(source.partials, limits);
}

export function checkPartialSizes(partials: TemplateSource['partials'], limits: RenderLimits): void {
  for (const [name, text] of toPartialMap(partials)) {
    if (text.length > limits.parseChars) throw new AppError('template.too_large', undefined, { part: `partials.${name}` });
  }
}

/** Compile one template version (MJML, text part, Liquid parse). */
export async function compileTemplate(source: TemplateSource, limits: RenderLimits): Promise<EngineTemplate> {
  checkSizes(source, limits);
  const body = (source.mjml ?? source.html) as string;
  const subject = source.subject ?? '';
  const preheader = source.preheader ?? '';
  // Outputs in the HTML part are HTML-escaped (`| raw` opts out); subject and text are not.
  const engine = createSafeLiquid({ partials: toPartialMap(source.partials), limits, escapeHtml: true });
  const parse = (text: string, part: string) => {
    try {
      return engine.parse(text);
    } catch (err) {
      throw toTemplateError(err, part);
    }
  };

  // Liquid errors against the source as written, before MJML moves lines around.
  parse(body, 'body');
  parse(preheader, 'preheader');
  parse(subject, 'subject');

  const { html: compiledHtml, warnings } =
    source.mjml !== undefined ? await compileMjml(source.mjml) : { html: body, warnings: [] };
  if (compiledHtml.length > limits.parseChars) throw new AppError('template.too_large', undefined, { part: 'body (compiled)' });
  const text = htmlToTextTemplate(compiledHtml);
  const html = preheader ? withPreheader(compiledHtml, preheader) : compiledHtml;
  // One template: subject, HTML and text joined by part tags, each on its own line. Each part was
  // parsed alone above, so no block can span two parts.
  const combined = parse(
    `${subject}\n${engine.partTag('html')}\n${html}\n${engine.partTag('plain')}\n${text}`, 'body (compiled)');
  const lines = (t: string) => t.split('\n').length;
  const htmlStart = lines(subject) + 2;
  const textStart = htmlStart + lines(html) + 1;
  const locate: Locate = (line) =>
    line >= textStart
      ? { part: 'text', line: line - textStart + 1 }
      : line >= htmlStart
        ? { part: 'body (compiled)', line: line - htmlStart + 1 }
        : { part: 'subject', line };
  return { key: source.key, html, warnings, engine, combined, locate };
}

/** Render one person against a compiled template: Liquid only, synchronous. */
export function renderCompiled(compiled: EngineTemplate, data: RenderData | Record<string, unknown>): RenderResult {
  const { engine } = compiled;
  let out: string;
  try {
    out = engine.render(compiled.combined, data);
  } catch (err) {
    throw toTemplateError(err, 'body', compiled.locate);
  }
  const parts = out.split(`\n${engine.separator}\n`);
  // The separator is random per compile and holds NUL characters; data cannot forge it in practice,
  // but if a value did contain it the split would be wrong, so refuse rather than mis-send.
  if (parts.length !== 3) throw new AppError('template.render_error', 'A value contains the part separator.', {});
  const [subject = '', html = '', text = ''] = parts;
  return {
    subject: subject.replace(/\s+/g, ' ').trim(),
    html: neutraliseUnsafeLinks(html),
    text: tidyText(text),
    warnings: [...compiled.warnings],
  };
}

/**
 * Named Liquid strings with no HTML (SMS body, webhook URL and body, in-app title…), parsed once
 * per key and rendered without escaping. Errors name the part.
 */
export function compileTexts(key: string, parts: Readonly<Record<string, string>>, partials: TemplateSource['partials'], limits: RenderLimits): EngineTexts {
  checkTextSizes(parts, partials, limits);
  const engine = createSafeLiquid({ partials: toPartialMap(partials), limits });
  const templates = new Map<string, Template[]>();
  for (const [name, text] of Object.entries(parts)) {
    try {
      templates.set(name, engine.parse(text));
    } catch (err) {
      throw toTemplateError(err, name);
    }
  }
  return { key, engine, templates };
}

export function checkTextSizes(parts: Readonly<Record<string, string>>, partials: TemplateSource['partials'], limits: RenderLimits): void {
  for (const [name, text] of Object.entries(parts)) {
    if (text.length > limits.parseChars) throw new AppError('template.too_large', undefined, { part: name });
  }
  checkPartialSizes(partials, limits);
}

export function renderTexts(compiled: EngineTexts, data: RenderData | Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of compiled.templates) {
    try {
      out[name] = compiled.engine.render(template, data);
    } catch (err) {
      throw toTemplateError(err, name);
    }
  }
  return out;
}
