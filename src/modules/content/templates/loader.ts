// Which versions a render uses, and their bodies. A send uses the template's published version and
// the published version of every layout, component and snippet, so publishing a component changes
// every template that uses it from the next send; a preview may use drafts (and says so).
// Version bodies never change once written, so they are cached by (resource, version). What a send
// reads besides (the template row and every layout's, component's and snippet's published version)
// is kept per workspace for a few seconds: forget(ws) clears it when this process changes content,
// other processes' changes show within SEND_CACHE_MS. Previews always read afresh.
import type { Db } from '../../../db/pool.ts';
import { AppError } from '../../../errors.ts';
import { Lru } from '../render/lru.ts';
import type { RenderWarning } from '../render/index.ts';
import { createContentRepo } from '../resources/repo.ts';
import type { ComponentBody, ContentResource, LayoutBody, SnippetBody, TemplateBody } from '../resources/index.ts';
import { emailNeeds, localised, type Dependencies, type Dependency } from './resolve.ts';

export type VersionChoice = 'draft' | 'published' | number;
/** 'send': published versions only. 'preview': published where there is one, else the draft. */
export type Mode = 'send' | 'preview';

export interface Selection {
  template: ContentResource;
  version: number;
  body: TemplateBody;
  /** Pointers of the dependencies this render uses, at their chosen versions (bodies not loaded). */
  layout: Pick<Dependency<LayoutBody>, 'id' | 'name' | 'version' | 'draft'> | null;
  components: Array<Pick<Dependency<ComponentBody>, 'id' | 'name' | 'version' | 'draft'>>;
  snippets: Array<Pick<Dependency<SnippetBody>, 'id' | 'name' | 'version' | 'draft'>>;
  warnings: RenderWarning[];
  /** Identifies exactly this content for the renderer's cache. */
  key: string;
}

type Pointer = Pick<Dependency<unknown>, 'id' | 'name' | 'version' | 'draft'>;

const SEND_CACHE_MS = 5_000;

/** Reads in flight are shared: a batch of sends starting at once makes one query, not one each. */
interface SendCache { at: number; templates: Map<string, Promise<ContentResource | undefined>>; pointers?: Promise<ContentResource[]> }

export function createTemplateLoader(deps: { db: Db; cacheSize?: number }) {
  const { db } = deps;
  const bodies = new Lru<string, Record<string, unknown>>(deps.cacheSize ?? 2000);
  const sendCache = new Map<string, SendCache>();
  const reading = new Map<string, Promise<Map<string, Record<string, unknown>>>>();

  /** The workspace's send cache, fresh (undefined: read afresh). */
  function cacheOf(workspaceId: string, cached: boolean): SendCache | undefined {
    if (!cached) return undefined;
    const now = Date.now();
    let c = sendCache.get(workspaceId);
    if (!c || now - c.at > SEND_CACHE_MS) {
      if (sendCache.size > 10_000) sendCache.clear();
      c = { at: now, templates: new Map() };
      sendCache.set(workspaceId, c);
    }
    return c;
  }

  function remember<T>(c: SendCache, workspaceId: string, read: Promise<T>, keep: (p: Promise<T>) => void, drop: () => void): void {
    keep(read);
    read.catch(() => {
      if (sendCache.get(workspaceId) === c) drop();
    });
  }

  async function loadBodies(workspaceId: string, wanted: readonly Pointer[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    const missing: Pointer[] = [];
    for (const w of wanted) {
      const hit = bodies.get(`${workspaceId}/${w.id}@${w.version}`);
      if (hit) out.set(`${w.id}@${w.version}`, hit);
      else missing.push(w);
    }
    if (missing.length > 0) {
      // Concurrent renders missing the same bodies share one read.
      const key = `${workspaceId}/${missing.map((w) => `${w.id}@${w.version}`).join(',')}`;
      let read = reading.get(key);
      if (!read) {
        read = createContentRepo(db).bodies(workspaceId, missing).finally(() => reading.delete(key));
        reading.set(key, read);
      }
      const found = await read;
      for (const [k, body] of found) {
        bodies.set(`${workspaceId}/${k}`, body);
        out.set(k, body);
      }
    }
    return out;
  }

  function pick(r: ContentResource, mode: Mode, field: string, override?: number): Pointer {
    if (override !== undefined) return { id: r.id, name: r.name, version: override, draft: override !== r.publishedVersion };
    if (r.publishedVersion !== null) return { id: r.id, name: r.name, version: r.publishedVersion, draft: false };
    if (mode === 'send') {
      throw new AppError('content.not_published', `${field}: the ${r.kind} "${r.name}" has never been published.`, { field });
    }
    return { id: r.id, name: r.name, version: r.draftVersion, draft: true };
  }

  return {
    loadBodies,

    /** Content of the workspace changed in this process: sends read it afresh. */
    forget(workspaceId: string): void {
      sendCache.delete(workspaceId);
    },

    /** Chooses the template version and its dependencies' versions; loads only the template body. */
    async select(workspaceId: string, templateId: string, opts: {
      version: VersionChoice; mode: Mode; locale: string | null; componentVersions?: ReadonlyMap<string, number> | undefined;
    }): Promise<Selection> {
      const repo = createContentRepo(db);
      const cache = cacheOf(workspaceId, opts.mode === 'send' && opts.componentVersions === undefined);
      const find = () => (/^tpl_[0-9a-f]{20}$/.test(templateId) ? repo.find(workspaceId, 'template', templateId) : Promise.resolve(undefined));
      let templateRead = cache?.templates.get(templateId);
      if (!templateRead) {
        templateRead = find();
        if (cache) remember(cache, workspaceId, templateRead, (p) => cache.templates.set(templateId, p), () => cache.templates.delete(templateId));
      }
      const template = await templateRead;
      if (!template) throw new AppError('content.not_found', undefined, { field: 'id' });
      let version: number;
      if (opts.version === 'draft') version = template.draftVersion;
      else if (opts.version === 'published') {
        if (template.publishedVersion === null) {
          throw new AppError('content.not_published', `The template "${template.name}" has never been published.`, { field: 'version' });
        }
        version = template.publishedVersion;
      } else {
        version = opts.version;
        if (version < 1 || version > template.draftVersion) throw new AppError('content.version_not_found', undefined, { field: 'version' });
      }
      const body = (await loadBodies(workspaceId, [{ id: template.id, name: template.name, version, draft: false }]))
        .get(`${template.id}@${version}`) as TemplateBody | undefined;
      if (!body) throw new AppError('content.version_not_found', undefined, { field: 'version' });

      let pointersRead = cache?.pointers;
      if (!pointersRead) {
        pointersRead = repo.dependencyPointers(workspaceId);
        if (cache) remember(cache, workspaceId, pointersRead, (p) => { cache.pointers = p; }, () => { delete cache.pointers; });
      }
      const pointers = await pointersRead;
      const byName = (kind: string) => new Map(pointers.filter((p) => p.kind === kind).map((p) => [p.name, p]));
      const layouts = byName('layout');
      const components = byName('component');
      const warnings: RenderWarning[] = [];
      const note = (p: Pointer, kind: string) => {
        if (p.draft) warnings.push({ code: 'content.unpublished_dependency', message: `The ${kind} "${p.name}" is previewed at its unpublished version ${p.version}.` });
      };

      let layout: Pointer | null = null;
      const used: Pointer[] = [];
      if (body.channel === 'email') {
        const needs = emailNeeds(localised(body as TemplateBody & { channel: 'email' }, opts.locale));
        if (needs.layout !== null) {
          const r = layouts.get(needs.layout);
          if (!r) throw new AppError('request.invalid', `layout: no layout named "${needs.layout}".`, { field: 'layout' });
          layout = pick(r, opts.mode, 'layout');
          note(layout, 'layout');
        }
        for (const name of needs.components) {
          const r = components.get(name);
          if (!r) throw new AppError('request.invalid', `blocks: no component named "${name}".`, { field: 'blocks' });
          const p = pick(r, opts.mode, `component ${name}`, opts.componentVersions?.get(r.id));
          note(p, 'component');
          used.push(p);
        }
      }
      // Every snippet can be a partial; unpublished ones only in previews.
      const snippets = pointers.filter((p) => p.kind === 'snippet' && (opts.mode === 'preview' || p.publishedVersion !== null))
        .map((r) => pick(r, opts.mode, `snippet ${r.name}`));
      const part = (prefix: string, p: Pointer) => `${prefix}:${p.id}@${p.version}`;
      const key = [
        `${workspaceId}/${template.id}@${version}/${opts.locale ?? ''}`,
        ...(layout ? [part('L', layout)] : []),
        ...used.map((p) => part('C', p)),
        ...snippets.map((p) => part('S', p)),
      ].join('/');
      return { template, version, body, layout, components: used, snippets, warnings, key };
    },

    /** The bodies of a selection's dependencies, for composing. */
    async dependencies(workspaceId: string, s: Selection): Promise<Dependencies> {
      const all = [...(s.layout ? [s.layout] : []), ...s.components, ...s.snippets];
      const loaded = await loadBodies(workspaceId, all);
      const withBody = <B>(p: Pointer): [string, Dependency<B>] => {
        const body = loaded.get(`${p.id}@${p.version}`);
        if (!body) throw new AppError('content.version_not_found', `${p.name}: version ${p.version} is missing.`, { field: 'version' });
        return [p.name, { ...p, body: body as B }];
      };
      return {
        layouts: new Map(s.layout ? [withBody<LayoutBody>(s.layout)] : []),
        components: new Map(s.components.map((p) => withBody<ComponentBody>(p))),
        snippets: new Map(s.snippets.map((p) => withBody<SnippetBody>(p))),
      };
    },
  };
}

export type TemplateLoader = ReturnType<typeof createTemplateLoader>;
