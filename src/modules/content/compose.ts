// Block composition: a layout plus an ordered list of `{ component, props }` becomes one MJML
// document, ready for the Renderer. It runs once per template version (never per person).
//
// Two kinds of Liquid meet in a component body:
// - compose-time Liquid about `props` (`{{ props.title }}`, `{% for item in props.items %}`), run
//   here, once, with the block's validated and escaped props as its only data;
// - per-person Liquid (`{{ customer.first_name }}`, `{{ workspace.postal_address }}`,
//   `{% unsubscribe_url %}`, `{% if customer.vip %}`), kept verbatim for the Renderer.
// A tag or output is per-person when it names one of the per-person roots (or a variable assigned
// or looped from one); such tokens are wrapped in {% raw %} for the compose pass. Prop values never
// become template code: they are escaped and their `{{` / `{%` neutralised (see starter/props.ts).
import { TokenKind, Tokenizer, type TagToken, type TopLevelToken } from 'liquidjs';
import { AppError } from '../../errors.ts';
import { createSafeLiquid, defaultLimits } from './render/liquid.ts';
import { prepareProps, type PropsSchema } from './starter/props.ts';

export interface ComponentDef {
  name: string;
  /** MJML fragment (one or more mj-section / mj-wrapper) with Liquid over `props.*`. */
  mjml: string;
  schema: PropsSchema;
  defaults?: Readonly<Record<string, unknown>>;
}

export interface LayoutDef {
  /** A full <mjml> document with exactly one `{{ content }}` slot inside mj-body. */
  mjml: string;
}

export interface Block {
  component: string;
  props?: unknown;
}

export interface ComposeInput {
  layout: LayoutDef;
  blocks: readonly Block[];
  components: ReadonlyMap<string, ComponentDef> | Readonly<Record<string, ComponentDef>>;
}

/** The variables that exist only per person; Liquid naming them is left for the Renderer. */
export const PER_PERSON_ROOTS: readonly string[] = ['customer', 'person', 'event', 'trigger', 'workspace', 'message'];
const LINK_TAGS = new Set(['unsubscribe_url', 'view_in_browser_url', 'manage_subscription_preferences_url', 'preferences_url']);
const BLOCK_TAGS = new Set(['if', 'unless', 'case', 'for', 'tablerow', 'capture']);
const MIDDLE_TAGS = new Set(['elsif', 'else', 'when']);
const SLOT = /\{\{-?\s*content\s*-?\}\}/g;

// Identifiers that start a variable path in a piece of Liquid markup (quoted strings removed).
function roots(markup: string): string[] {
  const bare = markup.replace(/"[^"]*"|'[^']*'/g, '""');
  return [...bare.matchAll(/(?<![\w.\]-])([A-Za-z_][\w-]*)/g)].map((m) => m[1] ?? '');
}

const raw = (text: string) => `{% raw %}${text}{% endraw %}`;

/**
 * Rewrite a component body so the compose pass leaves per-person Liquid untouched. Refuses a
 * single tag or output that mixes props with per-person data (it cannot be split in two passes).
 */
export function protectPerPerson(source: string, field: string): string {
  let tokens: TopLevelToken[];
  try {
    tokens = new Tokenizer(source).readTopLevelTokens();
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/, line:\d+, col:\d+$/, '') : 'syntax error';
    throw new AppError('template.syntax', `${field}: ${message.slice(0, 200)}`, { field });
  }
  const deferred = new Set(PER_PERSON_ROOTS);
  const stack: boolean[] = []; // per open block tag: is it per-person?
  let inRaw = false;
  let out = '';
  let at = 0;
  for (const token of tokens) {
    if (token.kind !== TokenKind.Tag && token.kind !== TokenKind.Output) continue;
    const text = source.slice(token.begin, token.end);
    out += source.slice(at, token.begin);
    at = token.end;
    if (token.kind === TokenKind.Tag && (token as TagToken).name === 'raw') inRaw = true;
    if (inRaw) {
      if (token.kind === TokenKind.Tag && (token as TagToken).name === 'endraw') inRaw = false;
      out += text;
      continue;
    }
    let perPerson: boolean;
    if (token.kind === TokenKind.Output) {
      const names = roots((token as unknown as { content: string }).content);
      perPerson = names.some((n) => deferred.has(n));
      if (perPerson && names.includes('props')) {
        throw new AppError('request.invalid', `${field}: "${text.slice(0, 80)}" mixes props with per-person data.`, { field });
      }
    } else {
      const tag = token as TagToken;
      const names = roots(tag.args);
      const mentions = names.some((n) => deferred.has(n));
      if (mentions && names.includes('props')) {
        throw new AppError('request.invalid', `${field}: "${text.slice(0, 80)}" mixes props with per-person data.`, { field });
      }
      if (LINK_TAGS.has(tag.name)) perPerson = true;
      else if (BLOCK_TAGS.has(tag.name)) {
        perPerson = mentions;
        stack.push(perPerson);
        // `{% for x in customer.items %}` / `{% capture x %}` inside per-person flow: x is per-person too.
        const variable = /^\s*([A-Za-z_][\w-]*)/.exec(tag.args)?.[1];
        if (perPerson && variable && (tag.name === 'for' || tag.name === 'tablerow')) deferred.add(variable);
      } else if (tag.name.startsWith('end') && BLOCK_TAGS.has(tag.name.slice(3))) {
        perPerson = stack.pop() ?? false;
      } else if (MIDDLE_TAGS.has(tag.name)) {
        perPerson = stack.at(-1) ?? false;
        if (perPerson !== mentions && mentions) {
          throw new AppError('request.invalid', `${field}: "${text.slice(0, 80)}" mixes props with per-person data.`, { field });
        }
      } else if (tag.name === 'assign') {
        perPerson = mentions;
        const variable = /^\s*([A-Za-z_][\w-]*)/.exec(tag.args)?.[1];
        if (perPerson && variable) deferred.add(variable);
      } else {
        // render/include/comment/liquid/echo…: per-person only when they name per-person data.
        perPerson = mentions;
      }
    }
    out += perPerson ? raw(text) : text;
  }
  return out + source.slice(at);
}

// The compose-pass engine: the same safe engine as the Renderer (no partials, limits), so a hostile
// component cannot hurt the process here either.
let composeEngine: ReturnType<typeof createSafeLiquid> | undefined;
function engine() {
  composeEngine ??= createSafeLiquid({ partials: new Map(), limits: defaultLimits });
  return composeEngine;
}

function lookup(components: ComposeInput['components'], name: string): ComponentDef | undefined {
  if (components instanceof Map) return (components as ReadonlyMap<string, ComponentDef>).get(name);
  const record = components as Readonly<Record<string, ComponentDef>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** Render one block's MJML: validate props, then run the component's compose-time Liquid. */
export function composeBlock(def: ComponentDef, props: unknown, field: string): string {
  // A block's props are laid over the component's defaults: a prop the block leaves out keeps its default.
  const isObject = props !== null && typeof props === 'object' && !Array.isArray(props);
  const merged = props === undefined ? (def.defaults ?? {}) : isObject ? { ...def.defaults, ...props } : props;
  const prepared = prepareProps(def.schema, merged, `${field}.props`);
  const source = protectPerPerson(def.mjml, `${field}.component`);
  try {
    return engine().render(engine().parse(source), { props: prepared });
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/, line:\d+, col:\d+$/, '') : 'failed';
    throw new AppError('template.render_error', `${field} (${def.name}): ${message.slice(0, 200)}`, { field });
  }
}

/**
 * One MJML document: the layout with its `{{ content }}` slot replaced by each block's MJML, in
 * order. Errors name the block: `blocks[2].props.items[1].label`, `blocks[0].component`.
 */
export function composeEmail({ layout, blocks, components }: ComposeInput): string {
  const slots = layout.mjml.match(SLOT)?.length ?? 0;
  if (slots !== 1) {
    throw new AppError('request.invalid', 'The layout needs exactly one {{ content }} slot.', { field: 'layout' });
  }
  const parts = blocks.map((block, i) => {
    const field = `blocks[${i}]`;
    const def = lookup(components, block.component);
    if (!def) {
      throw new AppError('request.invalid', `${field}.component: no component named "${String(block.component).slice(0, 100)}".`, {
        field: `${field}.component`,
      });
    }
    return composeBlock(def, block.props, field);
  });
  const content = parts.join('\n');
  return layout.mjml.replace(SLOT, () => content);
}
