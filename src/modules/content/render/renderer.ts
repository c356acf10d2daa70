// The renderer every caller uses (sends, previews, test sends, transactional sends, lint, view in
// browser). It checks sizes before anything parses, keeps the sources of recent template versions
// (so a version is loaded and composed once), and hands all parsing, MJML and Liquid to the render
// threads (pool.ts), each of which keeps its own compile cache (worker.ts). Nothing user-supplied
// runs on the calling thread, and every error that comes back is a stable template error: a
// template that failed once fails again, so callers treat these as permanent.
import { AppError } from '../../../errors.ts';
import { checkSizes, checkTextSizes, type RenderInput, type RenderResult, type TemplateSource } from './engine.ts';
import { defaultLimits, type RenderLimits } from './liquid.ts';
import { Lru } from './lru.ts';
import type { RenderWarning } from './mjml.ts';
import { RenderPool, type Deadline, type RenderPoolStats } from './pool.ts';
import type { RenderReply, RenderRequest, RenderValue } from './protocol.ts';
import type { RenderData } from './scope.ts';

export type { RenderInput, RenderResult, TemplateSource } from './engine.ts';

type Source = Omit<TemplateSource, 'key'>;
type Data = RenderData | Record<string, unknown>;

/** A compiled template version: its HTML (Liquid not yet run) and MJML warnings. */
export interface CompiledTemplate {
  readonly key: string;
  readonly html: string;
  readonly warnings: readonly RenderWarning[];
}

/** Named Liquid strings (SMS body, webhook parts…), size-checked; parsed in the threads. */
export interface CompiledTexts {
  readonly key: string;
}

interface TemplateEntry extends CompiledTemplate { readonly source: Source }
interface TextsEntry extends CompiledTexts {
  readonly parts: Record<string, string>;
  readonly partials: TemplateSource['partials'];
}

export type RenderOp = RenderRequest['op'];
/** Called once per request with its outcome ('ok', or the error's kind) and its time, queue included. */
export type RenderObserver = (op: RenderOp, outcome: string, seconds: number) => void;

export interface RendererOptions {
  limits?: Partial<RenderLimits>;
  /** Compiled template versions kept (here and in each thread). */
  cacheSize?: number;
  /** Render threads of this renderer's own pool; default: one pool shared by the process. */
  threads?: number;
  observer?: RenderObserver;
}

let shared: RenderPool | undefined;
let renderers = 0;

function outcomeOf(err: unknown): string {
  if (!(err instanceof AppError)) return 'unavailable';
  if (err.code === 'template.render_limit' && err.details['limit'] === 'deadline') return 'deadline';
  return err.code.replace(/^template\./, '');
}

export class Renderer {
  readonly limits: RenderLimits;
  /** Counters for tests and metrics: versions compiled (and cache hits) here; compiles in threads. */
  readonly stats = { compiles: 0, hits: 0, threadCompiles: 0 };
  private readonly cache: Lru<string, Promise<TemplateEntry>>;
  private readonly texts: Lru<string, TextsEntry>;
  private readonly pool: RenderPool;
  private readonly ownPool: boolean;
  /** Thread caches are shared by every renderer of a pool: keys carry the renderer's own prefix. */
  private readonly ns = `r${++renderers}:`;
  private readonly observer: RenderObserver | undefined;

  constructor(options: RendererOptions = {}) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.cache = new Lru(options.cacheSize ?? 500);
    this.texts = new Lru(options.cacheSize ?? 500);
    this.ownPool = options.threads !== undefined;
    this.pool = this.ownPool ? new RenderPool({ threads: options.threads }) : (shared ??= new RenderPool());
    this.observer = options.observer;
  }

  poolStats(): RenderPoolStats {
    return this.pool.stats();
  }

  /** Ends this renderer's own threads (a shared pool stays: its idle threads never hold a process). */
  async close(): Promise<void> {
    if (this.ownPool) await this.pool.close();
  }

  /** Compile (or fetch from the cache) one template version. */
  compile(source: TemplateSource): Promise<CompiledTemplate> {
    return this.compileWith(source.key, () => Promise.resolve(source));
  }

  /** Like compile, but the source is built (loaded, composed) only when `key` is not cached. */
  compileWith(key: string, build: () => Promise<Source>): Promise<CompiledTemplate> {
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    this.stats.compiles++;
    const pending = build().then(async ({ mjml, html, subject, preheader, partials }): Promise<TemplateEntry> => {
      // Only the parts of a source: a caller may pass more (a whole TemplateSource, data).
      const source: Source = { mjml, html, subject, preheader, partials };
      checkSizes(source, this.limits);
      const value = await this.call({ op: 'compile', key: this.ns + key, source, limits: this.limits }, { ms: this.limits.compileDeadlineMs });
      if (value?.op !== 'compile') throw new Error('render thread answered another request');
      return { key, html: value.html, warnings: value.warnings, source };
    });
    this.cache.set(key, pending);
    // A failed compile is not cached: the author fixes the template under a new or the same key.
    pending.catch(() => this.cache.delete(key));
    return pending;
  }

  async render(input: RenderInput): Promise<RenderResult> {
    const compiled = await this.compile(input);
    return this.renderCompiled(compiled, input.data);
  }

  /** Render one person against a compiled template (Liquid only, in a thread). */
  async renderCompiled(compiled: CompiledTemplate, data: Data): Promise<RenderResult> {
    const entry = compiled as TemplateEntry;
    const key = this.ns + entry.key;
    let value = await this.call({ op: 'render', key, data }, { ms: this.limits.deadlineMs });
    // That thread had not compiled this version (or evicted it): it compiles it now.
    value ??= await this.call({ op: 'render', key, source: entry.source, limits: this.limits, data }, this.compileThenRender());
    if (value?.op !== 'render') throw new Error('render thread answered another request');
    return value.result;
  }

  /** Size-check named Liquid strings; they are parsed (once per thread) when first rendered. */
  compileTexts(key: string, parts: Readonly<Record<string, string>>, partials?: TemplateSource['partials']): CompiledTexts {
    const cached = this.texts.get(key);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    this.stats.compiles++;
    checkTextSizes(parts, partials, this.limits);
    const entry: TextsEntry = { key, parts: { ...parts }, partials };
    this.texts.set(key, entry);
    return entry;
  }

  async renderTexts(compiled: CompiledTexts, data: Data): Promise<Record<string, string>> {
    const entry = compiled as TextsEntry;
    const key = this.ns + entry.key;
    let value = await this.call({ op: 'texts', key, data }, { ms: this.limits.deadlineMs });
    value ??= await this.call({ op: 'texts', key, parts: entry.parts, partials: entry.partials, limits: this.limits, data }, this.compileThenRender());
    if (value?.op !== 'texts') throw new Error('render thread answered another request');
    return value.result;
  }

  private compileThenRender(): Deadline {
    return { ms: this.limits.compileDeadlineMs, renderMs: this.limits.deadlineMs };
  }

  /** One request to a thread: its value, or undefined when the thread lacks the version. */
  private async call(req: RenderRequest, deadline: Deadline): Promise<RenderValue | undefined> {
    const t0 = performance.now();
    let reply: RenderReply;
    try {
      reply = await this.pool.run(req, deadline);
    } catch (err) {
      this.observer?.(req.op, outcomeOf(err), (performance.now() - t0) / 1000);
      throw err;
    }
    if (reply.ok) {
      if (reply.compiled) this.stats.threadCompiles++;
      this.observer?.(req.op, 'ok', (performance.now() - t0) / 1000);
      return reply.value;
    }
    if (reply.missing) return undefined;
    const err = new AppError(reply.error.code, reply.error.message, reply.error.details);
    this.observer?.(req.op, outcomeOf(err), (performance.now() - t0) / 1000);
    throw err;
  }
}
