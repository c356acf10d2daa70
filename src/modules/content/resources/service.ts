// Content resources: every save is a new version (the draft); publishing points the resource at one version.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../clock.ts';
import type { Db, Queryable } from '../../../db/pool.ts';
import { starterKit } from '../starter/index.ts';
import { AppError } from '../../../errors.ts';
import { createContentRepo, type ContentRepo } from './repo.ts';
import {
  BODY_SCHEMAS, ID_PREFIX, resourceName,
  type ContentResource, type ContentResourceDetail, type ContentVersion, type ResourceKind,
} from './types.ts';

const ID_PATTERN = /^[a-z]{3}_[0-9a-f]{20}$/;

export interface ResourcePage {
  resources: ContentResource[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

function newResourceId(kind: ResourceKind): string {
  return `${ID_PREFIX[kind]}_${randomBytes(10).toString('hex')}`;
}

function notFound(): AppError {
  return new AppError('content.not_found', undefined, { field: 'id' });
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Validates a body for its kind (the routes validate too; this guards other callers). */
function checkBody(kind: ResourceKind, body: unknown): Record<string, unknown> {
  const parsed = BODY_SCHEMAS[kind].safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = (issue?.path ?? []).reduce<string>((out, p) =>
      (typeof p === 'number' ? `${out}[${p}]` : `${out}.${String(p)}`), 'body');
    throw new AppError('request.invalid', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  // PostgreSQL jsonb cannot hold NUL characters.
  if (JSON.stringify(parsed.data).includes('\\u0000')) {
    throw new AppError('request.invalid', 'body: must not contain NUL characters', { field: 'body' });
  }
  return parsed.data;
}

function checkName(name: string): void {
  const parsed = resourceName.safeParse(name);
  if (!parsed.success) throw new AppError('request.invalid', `name: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { field: 'name' });
}

/** The sample template of the starter kit: every block keeps its component's default props except these. */
const WELCOME = {
  channel: 'email',
  marketing: true,
  email: {
    subject: 'Welcome, {{ customer.first_name | default: "friend" }}!',
    preheader: 'Everything you need to get started.',
    layout: 'brand',
    blocks: [
      { component: 'logo_header' },
      {
        component: 'hero',
        props: {
          title: 'Welcome aboard', subtitle: 'We are glad you are here. Here is how to get started.',
          cta: { url: 'https://example.com/start', label: 'Get started' }, background: '#1e3a8a', text_colour: '#ffffff',
        },
      },
      { component: 'paragraph' },
      { component: 'button' },
      { component: 'divider' },
    ],
  },
};

export function createContentService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function detail(repo: ContentRepo, workspaceId: string, r: ContentResource): Promise<ContentResourceDetail> {
    const draft = await repo.version(workspaceId, r.id, r.draftVersion);
    if (!draft) throw new Error(`content ${r.id}: draft version ${r.draftVersion} missing`);
    const published = r.publishedVersion === null ? null
      : r.publishedVersion === r.draftVersion ? draft : (await repo.version(workspaceId, r.id, r.publishedVersion)) ?? null;
    return { ...r, draft, published };
  }

  async function existing(repo: ContentRepo, workspaceId: string, kind: ResourceKind, id: string, forUpdate = false): Promise<ContentResource> {
    if (!ID_PATTERN.test(id)) throw notFound();
    const r = await repo.find(workspaceId, kind, id, { forUpdate });
    if (!r) throw notFound();
    return r;
  }

  // Told after every change of a workspace's content (the send caches of the template loader).
  const listeners: Array<(workspaceId: string) => void> = [];
  async function changing<T>(workspaceId: string, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      for (const listener of listeners) listener(workspaceId);
    }
  }

  async function nameTaken<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('content.name_taken', undefined, { field: 'name' });
      throw err;
    }
  }

  return {
    /** `listener` is called after each change of a workspace's content made through this service. */
    onChange(listener: (workspaceId: string) => void): void {
      listeners.push(listener);
    },

    async list(workspaceId: string, kind: ResourceKind, opts: { limit?: number; after?: string | undefined } = {}): Promise<ResourcePage> {
      const limit = opts.limit ?? 100;
      const rows = await createContentRepo(db).list(workspaceId, kind, { limit: limit + 1, after: opts.after });
      const page = rows.slice(0, limit);
      return { resources: page, next: rows.length > limit ? (page.at(-1)?.name ?? null) : null };
    },

    /** A new resource whose version 1 is the draft. */
    async create(workspaceId: string, kind: ResourceKind, name: string, body: unknown): Promise<ContentResourceDetail> {
      checkName(name);
      const clean = checkBody(kind, body);
      return changing(workspaceId, db.transaction().execute(async (tx) => {
        const repo = createContentRepo(tx);
        const at = clock.now();
        const r = await repo.insertResource({ workspaceId, id: newResourceId(kind), kind, name, at });
        if (!r) throw new AppError('content.name_taken', undefined, { field: 'name' });
        const draft = await repo.insertVersion({ workspaceId, resourceId: r.id, version: 1, body: clean, at });
        return { ...r, draft, published: null };
      }));
    },

    async get(workspaceId: string, kind: ResourceKind, id: string): Promise<ContentResourceDetail> {
      const repo = createContentRepo(db);
      return detail(repo, workspaceId, await existing(repo, workspaceId, kind, id));
    },

    /** The resource of this kind with this name, if any (how templates name layouts and components). */
    async getByName(workspaceId: string, kind: ResourceKind, name: string): Promise<ContentResourceDetail | undefined> {
      const repo = createContentRepo(db);
      const r = await repo.findByName(workspaceId, kind, name);
      return r && detail(repo, workspaceId, r);
    },

    /** Saves a new draft version (and renames, when a name is given). */
    async update(workspaceId: string, kind: ResourceKind, id: string, change: { name?: string | undefined; body: unknown }): Promise<ContentResourceDetail> {
      if (change.name !== undefined) checkName(change.name);
      const clean = checkBody(kind, change.body);
      return nameTaken(() => changing(workspaceId, db.transaction().execute(async (tx) => {
        const repo = createContentRepo(tx);
        const r = await existing(repo, workspaceId, kind, id, true);
        const at = clock.now();
        const version = r.draftVersion + 1;
        const draft = await repo.insertVersion({ workspaceId, resourceId: id, version, body: clean, at });
        const updated = await repo.update(workspaceId, id, { draftVersion: version, at, ...(change.name !== undefined ? { name: change.name } : {}) });
        const published = updated.publishedVersion === null ? null : (await repo.version(workspaceId, id, updated.publishedVersion)) ?? null;
        return { ...updated, draft, published };
      })));
    },

    async versions(workspaceId: string, kind: ResourceKind, id: string): Promise<ContentVersion[]> {
      const repo = createContentRepo(db);
      await existing(repo, workspaceId, kind, id);
      return repo.versions(workspaceId, id);
    },

    /** Makes `version` (default: the latest draft) the published one. */
    async publish(workspaceId: string, kind: ResourceKind, id: string, version?: number): Promise<ContentResourceDetail> {
      return changing(workspaceId, db.transaction().execute(async (tx) => {
        const repo = createContentRepo(tx);
        const r = await existing(repo, workspaceId, kind, id, true);
        const v = version ?? r.draftVersion;
        if (!(await repo.version(workspaceId, id, v))) {
          throw new AppError('content.version_not_found', undefined, { field: 'version' });
        }
        const at = clock.now();
        await repo.markPublished(workspaceId, id, v, at);
        const updated = await repo.update(workspaceId, id, { publishedVersion: v, at });
        return detail(repo, workspaceId, updated);
      }));
    },

    /** Resources whose latest draft or published body contains `needle` (where an asset is used). */
    findReferences(workspaceId: string, needle: string) {
      return createContentRepo(db).findReferences(workspaceId, needle);
    },

    /**
     * The starter kit, in the transaction that creates a workspace: the `brand` layout and the ten
     * components, published at version 1, and a `welcome` email template (a draft) built from them.
     */
    async installStarterKit(tx: Queryable, workspaceId: string): Promise<void> {
      const repo = createContentRepo(tx);
      const at = clock.now();
      const kit = starterKit();
      const add = async (kind: ResourceKind, name: string, body: unknown, publish: boolean) => {
        const r = await repo.insertResource({ workspaceId, id: newResourceId(kind), kind, name, at });
        if (!r) return; // already there
        await repo.insertVersion({ workspaceId, resourceId: r.id, version: 1, body: checkBody(kind, body), at });
        if (publish) {
          await repo.markPublished(workspaceId, r.id, 1, at);
          await repo.update(workspaceId, r.id, { publishedVersion: 1, at });
        }
      };
      await add('layout', kit.layout.name, { mjml: kit.layout.mjml }, true);
      for (const c of kit.components) {
        await add('component', c.name, { mjml: c.mjml, props: c.schema, ...(c.defaults ? { defaults: c.defaults } : {}) }, true);
      }
      await add('template', 'welcome', WELCOME, false);
    },

    async delete(workspaceId: string, kind: ResourceKind, id: string): Promise<void> {
      if (!ID_PATTERN.test(id) || !(await changing(workspaceId, createContentRepo(db).delete(workspaceId, kind, id)))) throw notFound();
    },
  };
}

export type ContentService = ReturnType<typeof createContentService>;
