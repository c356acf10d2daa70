// A LiquidJS engine that is safe by construction:
// - partials come only from the in-memory map the caller passes (the workspace's snippets and
//   components); the engine's `fs` has no path to the disk at all, so '/etc/passwd' or
//   '../../package.json' are just names that are not in the map;
// - `ownPropertyOnly` keeps prototypes out of reach ({{ a.constructor.constructor }} is empty) and
//   the only data in scope is what the caller passes (no globals, no process);
// - parse size, render time, allocations, output size and partial nesting are all bounded;
// - with `escapeHtml`, every {{ output }} inside the HTML part is HTML-escaped (`| raw` opts out),
//   so a person's attributes or event properties can never become markup; subject and text stay as
//   written. The renderer marks where the HTML part starts and ends with `partTag`.
// Rendering is synchronous (renderSync): faster than the async path, and a render cannot interleave
// with another on the event loop, which is what makes the per-engine nesting counter sound.
import { randomBytes } from 'node:crypto';
import {
  Context,
  IncludeTag,
  LayoutTag,
  Liquid,
  RenderTag,
  Tag,
  type Emitter,
  type FS,
  type Parser,
  type TagToken,
  type Template,
  type TopLevelToken,
} from 'liquidjs';
import { boundArrayFilters, boundedMemory } from './bounds.ts';
import { RenderLimitError } from './errors.ts';

export interface RenderLimits {
  /** Longest template or partial source, in characters (LiquidJS parseLimit). */
  parseChars: number;
  /**
   * Wall time one Liquid render may take, in ms (LiquidJS renderLimit, checked between nodes). Generous:
   * a fresh thread on a loaded machine is slow, and the pool's CPU-time deadline bounds the rest.
   */
  renderMs: number;
  /** Allocation budget of one render (LiquidJS memoryLimit: range sizes, string filter output, arrays). */
  memory: number;
  /** Largest rendered output of one part (HTML, text or subject), in characters. */
  outputChars: number;
  /** How deep {% render %} / {% include %} / {% layout %} may nest. */
  partialDepth: number;
  /** Largest single allocation (a range's length, a string a filter builds), within `memory` (bounds.ts). */
  allocation: number;
  /** Longest array an array filter (sort, uniq, map, where…) accepts (bounds.ts). */
  arrayItems: number;
  /** Longest MJML source, in characters, checked before MJML runs (it expands ~10x into HTML). */
  mjmlChars: number;
  /** Hard deadline of one render in the pool: the thread is terminated (pool.ts). */
  deadlineMs: number;
  /** Hard deadline of one compile (MJML, text part, parse) in the pool. */
  compileDeadlineMs: number;
}

export const defaultLimits: RenderLimits = Object.freeze({
  parseChars: 512 * 1024,
  renderMs: 1_000,
  memory: 16 * 1024 * 1024,
  outputChars: 1024 * 1024,
  partialDepth: 10,
  allocation: 250_000,
  arrayItems: 10_000,
  mjmlChars: 64 * 1024,
  deadlineMs: 2_000,
  compileDeadlineMs: 10_000,
});

/** The three link tags; Customer.io's names plus Tandem's shorter alias for the preference centre. */
export const linkTags = {
  unsubscribe_url: 'unsubscribe_url',
  view_in_browser_url: 'view_in_browser_url',
  manage_subscription_preferences_url: 'preferences_url',
  preferences_url: 'preferences_url',
} as const;

export type PartialMap = ReadonlyMap<string, string>;

/** An `fs` for LiquidJS that only knows the names in `partials`. It never touches the disk. */
export function memoryFs(partials: PartialMap): FS {
  const has = (name: string) => partials.has(name);
  const read = (name: string) => {
    const body = partials.get(name);
    if (body === undefined) throw Object.assign(new Error(`ENOENT: no partial "${name}"`), { code: 'ENOENT' });
    return body;
  };
  return {
    exists: (name) => Promise.resolve(has(name)),
    existsSync: has,
    readFile: (name) => Promise.resolve(read(name)),
    readFileSync: read,
    // The name is the key: no joining with a root, no extension, no normalisation of '..'.
    resolve: (_dir, name) => name,
    contains: (_root, name) => Promise.resolve(has(name)),
    containsSync: (_root, name) => has(name),
    sep: '/',
  };
}

interface RenderState {
  depth: number;
  /** Which part is rendering: outputs are escaped only in 'html'. */
  mode: PartMode;
}

export type PartMode = 'html' | 'plain';
type EscapeFn = (this: unknown, value: unknown) => unknown;
const NEEDS_ESCAPE = /[&<>"']/;

type TagCtor = new (token: TagToken, remain: TopLevelToken[], liquid: Liquid, parser: Parser) => Tag;

// Wrap a built-in partial tag so that nesting beyond `max` fails with a clear error instead of a
// stack overflow (a partial that renders itself). LiquidJS runs a yielded generator to completion
// before resuming, so `finally` sees the whole nested render.
function bounded(Base: TagCtor, state: RenderState, max: number): TagCtor {
  return class BoundedPartialTag extends Tag {
    private readonly inner: Tag;
    constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid, parser: Parser) {
      super(token, remain, liquid);
      this.inner = new Base(token, remain, liquid, parser);
    }
    *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
      if (state.depth >= max) throw new RenderLimitError('partial_depth', `partials nested deeper than ${max}`);
      state.depth++;
      try {
        yield this.inner.render(ctx, emitter);
      } finally {
        state.depth--;
      }
    }
  };
}

// {% unsubscribe_url %} and friends print the URL the caller put in `message.<name>` (signed by
// the delivery code); they read the render's globals so they also work inside partials.
function linkTag(key: string) {
  return class LinkTag extends Tag {
    constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
      super(token, remain, liquid);
    }
    render(ctx: Context, emitter: Emitter): void {
      const message: unknown = (ctx.globals as Record<string, unknown>)['message'];
      if (message === null || typeof message !== 'object' || !Object.hasOwn(message, key)) return;
      const url = (message as Record<string, unknown>)[key];
      if (typeof url === 'string') emitter.write(url);
    }
  };
}

// Switches the escaping mode and writes the separator the caller splits the output on. Its name is
// random per engine, so a template cannot name it to switch escaping off.
function partTag(state: RenderState, separator: string) {
  return class PartTag extends Tag {
    private readonly mode: PartMode;
    constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
      super(token, remain, liquid);
      this.mode = token.args.trim() === 'html' ? 'html' : 'plain';
    }
    render(_ctx: Context, emitter: Emitter): void {
      state.mode = this.mode;
      emitter.write(separator);
    }
  };
}

export interface SafeLiquid {
  parse(source: string): Template[];
  /** Render with `data` as the (read-only) globals, visible in partials too. Starts in 'plain' mode. */
  render(templates: Template[], data: object): string;
  /** Source of a tag that starts a part (escaped when 'html') and writes `separator` in the output. */
  partTag(mode: PartMode): string;
  readonly separator: string;
}

export interface LiquidEngineOptions {
  partials: PartialMap;
  limits: RenderLimits;
  /** HTML-escape outputs while in 'html' mode (see partTag). */
  escapeHtml?: boolean;
  /** What partTag writes into the output. Default: a random line no data can forge in practice. */
  separator?: string;
}

export function createSafeLiquid({ partials, limits, escapeHtml = false, separator }: LiquidEngineOptions): SafeLiquid {
  const state: RenderState = { depth: 0, mode: 'plain' };
  const engine = new Liquid({
    fs: memoryFs(partials),
    root: [''],
    partials: [''],
    layouts: [''],
    extname: '',
    relativeReference: false,
    dynamicPartials: true,
    ownPropertyOnly: true,
    strictFilters: true,
    strictVariables: false,
    cache: 256,
    parseLimit: limits.parseChars,
    renderLimit: limits.renderMs,
    memoryLimit: limits.memory,
    globals: {},
    ...(escapeHtml
      ? {
          outputEscape(this: unknown, value: unknown): string {
            // Strings without a special character and numbers need no work (the common case).
            if (state.mode !== 'html' || typeof value === 'number' || (typeof value === 'string' && !NEEDS_ESCAPE.test(value))) {
              return value as string;
            }
            return escapeImpl.call(this, value) as string;
          },
        }
      : {}),
  });
  // Called only while rendering, after this line has run.
  const escapeImpl = engine.filters['escape'] as EscapeFn;
  if (escapeHtml) {
    // HTML filters mean nothing in the subject and the text part: there they pass the text through,
    // so one expression (`{{ address | escape | newline_to_br | raw }}`) is right in every part.
    for (const name of ['escape', 'escape_once', 'newline_to_br']) {
      const html = engine.filters[name] as EscapeFn;
      engine.registerFilter(name, function (this: unknown, value: unknown) {
        return state.mode === 'html' ? html.call(this, value) : value;
      });
    }
  }
  const partSeparator = separator ?? `\u0000${randomBytes(12).toString('hex')}\u0000`;
  const partTagName = `tandem_part_${randomBytes(8).toString('hex')}`;
  boundArrayFilters(engine, limits.arrayItems);
  engine.registerTag(partTagName, partTag(state, partSeparator));
  engine.registerTag('render', bounded(RenderTag, state, limits.partialDepth));
  engine.registerTag('include', bounded(IncludeTag, state, limits.partialDepth));
  engine.registerTag('layout', bounded(LayoutTag, state, limits.partialDepth));
  for (const [tag, key] of Object.entries(linkTags)) engine.registerTag(tag, linkTag(key));

  return {
    separator: partSeparator,
    partTag: (mode) => `{% ${partTagName} ${mode} %}`,
    parse: (source) => engine.parse(source),
    render(templates, data) {
      state.depth = 0;
      state.mode = 'plain';
      // Our memory limiter for this render: LiquidJS's total budget plus a bound on one allocation.
      const memoryLimit = boundedMemory(limits.memory, limits.allocation) as Context['memoryLimit'];
      const ctx = new Context({}, engine.options, { globals: data, sync: true }, { memoryLimit, liquid: engine });
      const out: unknown = engine.renderSync(templates, ctx);
      const text = typeof out === 'string' ? out : String(out);
      if (text.length > limits.outputChars) {
        throw new RenderLimitError('output', `output larger than ${limits.outputChars} characters`);
      }
      return text;
    },
  };
}
