// Workspaces and their keys. Keys are shown once, at creation or rotation; afterwards only prefixes.
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { AppError } from '../../errors.ts';
import { displayPrefix, hashSecret, newId, newSecret, type KeyKind } from './keys.ts';
import { createWorkspaceRepo, type KeyRow, type WorkspaceRow, type WorkspaceSettings } from './repo.ts';
import type { Queryable } from '../../db/pool.ts';

/** Runs in the workspace's creating transaction; a failure rolls the workspace back. */
export type CreatedHook = (tx: Queryable, workspaceId: string) => Promise<void>;

export interface CreatedWorkspace {
  workspaceId: string;
  name: string;
  siteId: string;
  writeKey: string;
  trackApiKey: string;
  appApiKey: string;
}

export interface AuthenticatedKey {
  workspaceId: string;
  keyId: string;
  kind: KeyKind;
  siteId: string;
}

export interface CreatedKey {
  key: KeyRow;
  secret: string;
}

// Positive lookups are cached briefly: ingest authenticates every request. A revoked key stops
// working within this window on other processes, at once on the process that revoked it.
const AUTH_CACHE_MS = 5_000;
/** Active (unrevoked) API keys per workspace: POST /api/keys answers workspace.limit_reached beyond it. */
export const MAX_ACTIVE_KEYS = 100;

export function createWorkspaceService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  const cache = new Map<string, { value: AuthenticatedKey | null; expires: number }>();
  // Workspace rows as last read, for get(id, { maxAgeMs }) (every render reads the settings). This
  // process's updates replace them at once; another process's show within the caller's maxAgeMs.
  // Concurrent readers share one read.
  const recent = new Map<string, { at: number; row: Promise<WorkspaceRow> }>();

  async function issueKey(repo: ReturnType<typeof createWorkspaceRepo>, workspaceId: string, kind: KeyKind, name = ''): Promise<CreatedKey> {
    const secret = newSecret(kind);
    const key = await repo.insertKey({
      id: newId('key'), workspaceId, kind, name, hash: hashSecret(secret), prefix: displayPrefix(secret),
    });
    return { key, secret };
  }

  const createdHooks: CreatedHook[] = [];

  return {
    /** Run `hook` inside the transaction that creates each new workspace (the starter kit). */
    onCreated(hook: CreatedHook): void {
      createdHooks.push(hook);
    },

    async create(name: string): Promise<CreatedWorkspace> {
      return db.transaction().execute(async (tx) => {
        const repo = createWorkspaceRepo(tx);
        const ws = await repo.insertWorkspace({ id: newId('ws'), name, siteId: newId('site') });
        for (const hook of createdHooks) await hook(tx, ws.id);
        const write = await issueKey(repo, ws.id, 'write', 'default');
        const track = await issueKey(repo, ws.id, 'track', 'default');
        const app = await issueKey(repo, ws.id, 'app', 'default');
        return {
          workspaceId: ws.id, name: ws.name, siteId: ws.siteId,
          writeKey: write.secret, trackApiKey: track.secret, appApiKey: app.secret,
        };
      });
    },

    /** Rename, and merge settings (a field set to null is removed). */
    async update(workspaceId: string, change: { name?: string | undefined; settings?: { [K in keyof WorkspaceSettings]?: WorkspaceSettings[K] | null } | undefined }): Promise<WorkspaceRow> {
      recent.delete(workspaceId);
      const row = await db.transaction().execute(async (tx) => {
        const repo = createWorkspaceRepo(tx);
        const ws = await repo.findWorkspace(workspaceId);
        if (!ws) throw new AppError('workspace.not_found', undefined, { field: 'workspaceId' });
        const settings: Record<string, string | number> = { ...ws.settings };
        for (const [k, v] of Object.entries(change.settings ?? {})) {
          if (v === null) delete settings[k];
          else if (v !== undefined) settings[k] = v;
        }
        const set = {
          ...(change.name !== undefined ? { name: change.name } : {}),
          ...(change.settings !== undefined ? { settings: settings } : {}),
        };
        // An empty change ({}) is a no-op: an UPDATE with nothing to set is not valid SQL.
        const updated = Object.keys(set).length ? await repo.updateWorkspace(workspaceId, set) : ws;
        if (!updated) throw new AppError('workspace.not_found', undefined, { field: 'workspaceId' });
        return updated;
      });
      recent.delete(workspaceId);
      return row;
    },

    /** The workspace; with `maxAgeMs`, possibly as read up to that long ago. */
    get(workspaceId: string, opts: { maxAgeMs?: number } = {}): Promise<WorkspaceRow> {
      const hit = opts.maxAgeMs !== undefined ? recent.get(workspaceId) : undefined;
      if (hit && Date.now() - hit.at <= opts.maxAgeMs!) return hit.row;
      const entry = {
        at: Date.now(),
        row: createWorkspaceRepo(db).findWorkspace(workspaceId).then((ws) => {
          if (!ws) throw new AppError('workspace.not_found', undefined, { field: 'workspaceId' });
          return ws;
        }),
      };
      if (recent.size > 10_000) recent.clear();
      recent.set(workspaceId, entry);
      entry.row.catch(() => {
        if (recent.get(workspaceId) === entry) recent.delete(workspaceId);
      });
      return entry.row;
    },

    list(): Promise<WorkspaceRow[]> {
      return createWorkspaceRepo(db).listWorkspaces();
    },

    async listKeys(workspaceId: string): Promise<KeyRow[]> {
      await this.get(workspaceId);
      return createWorkspaceRepo(db).listKeys(workspaceId);
    },

    async createKey(workspaceId: string, kind: KeyKind, name = ''): Promise<CreatedKey> {
      await this.get(workspaceId);
      const repo = createWorkspaceRepo(db);
      // Concurrent creates can each see room for one more: the cap bounds growth, not an exact count.
      if (await repo.countActiveKeys(workspaceId) >= MAX_ACTIVE_KEYS) {
        throw new AppError('workspace.limit_reached', `A workspace has at most ${MAX_ACTIVE_KEYS} active API keys; revoke one first.`, { field: 'kind' });
      }
      return issueKey(repo, workspaceId, kind, name);
    },

    /** A new secret of the same kind; the old key is revoked in the same transaction. */
    async rotateKey(workspaceId: string, keyId: string): Promise<CreatedKey> {
      const created = await db.transaction().execute(async (tx) => {
        const repo = createWorkspaceRepo(tx);
        const old = await repo.findKey(workspaceId, keyId);
        if (!old || old.revokedAt) throw new AppError('key.not_found', undefined, { field: 'id' });
        await repo.revokeKey(workspaceId, keyId, clock.now());
        return issueKey(repo, workspaceId, old.kind, old.name);
      });
      cache.clear();
      return created;
    },

    async revokeKey(workspaceId: string, keyId: string): Promise<void> {
      const done = await createWorkspaceRepo(db).revokeKey(workspaceId, keyId, clock.now());
      if (!done) throw new AppError('key.not_found', undefined, { field: 'id' });
      cache.clear();
    },

    /** The workspace a secret belongs to, if the secret is a live key of the wanted kind. */
    async authenticate(kind: KeyKind, secret: string): Promise<AuthenticatedKey | null> {
      const hash = hashSecret(secret);
      const now = Date.now();
      const hit = cache.get(hash);
      let found: AuthenticatedKey | null;
      if (hit && hit.expires > now) {
        found = hit.value;
      } else {
        const row = await createWorkspaceRepo(db).findActiveKeyByHash(hash);
        found = row ? { workspaceId: row.workspaceId, keyId: row.id, kind: row.kind, siteId: row.siteId } : null;
        if (cache.size > 10_000) cache.clear();
        cache.set(hash, { value: found, expires: now + AUTH_CACHE_MS });
        if (found) await createWorkspaceRepo(db).touchKey(found.keyId, clock.now());
      }
      return found && found.kind === kind ? found : null;
    },
  };
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;
