// The link checker: extracts a template's links and images from its compiled HTML, checks each
// unique URL through the outbound guard (bounded concurrency), and stores the results wholesale.
// Runs as graphile-worker jobs: `content:check_links` per template (enqueued by the API) and
// `content:check_all_links` (daily cron) which enqueues one job per published email template.
import type { Task } from 'graphile-worker';
import type { Clock } from '../../../clock.ts';
import type { Db } from '../../../db/pool.ts';
import { AppError } from '../../../errors.ts';
import type { Logger } from '../../../logger.ts';
import type { OutboundClient } from '../../../net/index.ts';
import { enqueueJob } from '../../../worker/jobs.ts';
import { checkOne, mapLimit, type CheckOptions, type UrlOutcome } from './check.ts';
import { extractUrls, type ExtractedUrl } from './extract.ts';
import { createLinkCheckRepo, type LinkResult, type StoredCheck } from './repo.ts';

export const CHECK_LINKS_TASK = 'content:check_links';
export const CHECK_ALL_LINKS_TASK = 'content:check_all_links';

/** URLs checked per template; the rest are recorded as skipped. */
export const MAX_URLS = 300;

export interface LinkCheckDeps {
  db: Db;
  clock: Clock;
  log?: Logger;
  /** Compiled HTML of the published, else latest draft, version; undefined = no such template. '' = no HTML (not email). */
  htmlOf: (workspaceId: string, templateId: string) => Promise<string | undefined>;
  outbound: OutboundClient;
  /** URL prefixes of Tandem-hosted assets (e.g. `${publicUrl}/assets/`). */
  hostedAssetPrefixes?: readonly string[];
  /** Given: hosted assets are looked up with it (ok / broken); not given: they are recorded as skipped. */
  assetExists?: (url: string) => Promise<boolean>;
  concurrency?: number;
  timeoutMs?: number;
  maxBytes?: number;
}

interface Payload {
  workspaceId: string;
  templateId: string;
}

function isPayload(p: unknown): p is Payload {
  if (p === null || typeof p !== 'object') return false;
  const { workspaceId, templateId } = p as Record<string, unknown>;
  return typeof workspaceId === 'string' && typeof templateId === 'string';
}

export function createLinkCheckService(deps: LinkCheckDeps) {
  const repo = createLinkCheckRepo(deps.db);
  const prefixes = deps.hostedAssetPrefixes ?? [];
  const concurrency = deps.concurrency ?? 4;
  const opts: CheckOptions = { timeoutMs: deps.timeoutMs ?? 10_000, maxBytes: deps.maxBytes ?? 2 * 1024 * 1024 };

  async function outcomeOf(u: ExtractedUrl, index: number): Promise<UrlOutcome> {
    if (index >= MAX_URLS) return { status: 'skipped', httpStatus: null, error: `Only the first ${MAX_URLS} URLs are checked.` };
    switch (u.action) {
      case 'invalid':
        return { status: 'broken', httpStatus: null, error: 'Not an absolute http(s) URL.' };
      case 'hosted':
        if (!deps.assetExists) return { status: 'skipped', httpStatus: null, error: 'Hosted by Tandem.' };
        try {
          return (await deps.assetExists(u.url))
            ? { status: 'ok', httpStatus: null, error: null }
            : { status: 'broken', httpStatus: null, error: 'No such asset in the library.' };
        } catch {
          return { status: 'broken', httpStatus: null, error: 'The asset library could not be asked.' };
        }
      case 'fetch':
        return checkOne(deps.outbound, u.url, opts);
    }
  }

  async function ensureTemplate(workspaceId: string, templateId: string): Promise<void> {
    if (!(await repo.templateExists(workspaceId, templateId))) throw new AppError('content.not_found', undefined, { field: 'id' });
  }

  return {
    /** Queue a check of one template (the API's POST). A pending check of the same template is replaced. */
    async enqueue(workspaceId: string, templateId: string): Promise<void> {
      await ensureTemplate(workspaceId, templateId);
      await enqueueJob(deps.db, CHECK_LINKS_TASK, { workspaceId, templateId } satisfies Payload, {
        jobKey: `${CHECK_LINKS_TASK}:${workspaceId}:${templateId}`, maxAttempts: 3,
      });
    },

    /** Check a template now and store the results; undefined when the template does not exist. */
    async check(workspaceId: string, templateId: string): Promise<StoredCheck | undefined> {
      const html = await deps.htmlOf(workspaceId, templateId);
      if (html === undefined) return undefined;
      const urls = extractUrls(html, prefixes);
      // One fetch per URL even when it is both a link and an image.
      const byUrl = new Map<string, Promise<UrlOutcome>>();
      const outcomes = await mapLimit(urls.map((u, i) => [u, i] as const), concurrency, ([u, i]) => {
        const key = u.action === 'fetch' && i < MAX_URLS ? u.url : `${u.kind} ${u.url}`;
        let pending = byUrl.get(key);
        if (!pending) {
          pending = outcomeOf(u, i);
          byUrl.set(key, pending);
        }
        return pending;
      });
      const results: LinkResult[] = urls.map((u, i) => ({ url: u.url, kind: u.kind, ...(outcomes[i] as UrlOutcome) }));
      const checkedAt = deps.clock.now();
      if (!(await repo.replaceCheck(workspaceId, templateId, checkedAt, results))) return undefined;
      deps.log?.info({ workspaceId, templateId, urls: results.length, broken: results.filter((r) => r.status === 'broken').length }, 'links checked');
      return { checkedAt, results };
    },

    /** The last check of a template (checkedAt null before the first). */
    async results(workspaceId: string, templateId: string): Promise<StoredCheck> {
      await ensureTemplate(workspaceId, templateId);
      return repo.read(workspaceId, templateId);
    },

    /** Queue one check per published email template (the daily cron). Returns how many were queued. */
    async enqueueAll(): Promise<number> {
      const templates = await repo.publishedEmailTemplates();
      for (const t of templates) {
        await enqueueJob(deps.db, CHECK_LINKS_TASK, t satisfies Payload, {
          jobKey: `${CHECK_LINKS_TASK}:${t.workspaceId}:${t.templateId}`, maxAttempts: 3, priority: 10,
        });
      }
      return templates.length;
    },

    tasks(): Record<string, Task> {
      return {
        [CHECK_LINKS_TASK]: async (payload) => {
          if (!isPayload(payload)) throw new Error(`${CHECK_LINKS_TASK}: payload needs workspaceId and templateId`);
          await this.check(payload.workspaceId, payload.templateId);
        },
        [CHECK_ALL_LINKS_TASK]: async () => {
          await this.enqueueAll();
        },
      };
    },
  };
}

export type LinkCheckService = ReturnType<typeof createLinkCheckService>;
