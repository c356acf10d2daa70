// The only reader of process.env. Parsed once at start, frozen, passed in.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseAllowList } from './net/guard.ts';

const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  TANDEM_DATA_DIR: z.string().default('./.tandem'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TANDEM_PUBLIC_URL: z.string().url().optional(),
  TANDEM_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  TANDEM_WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  TANDEM_WORKER_DEAD_AFTER_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  TANDEM_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  TANDEM_DEDUPE_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  TANDEM_SEGMENT_TICK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  TANDEM_CATALOG_MAX_EVENT_TYPES: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  TANDEM_CATALOG_MAX_PROPERTIES: z.coerce.number().int().min(1).max(100_000).default(500),
  TANDEM_SEGMENT_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  TANDEM_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  TANDEM_ASSET_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(10 * 1024 * 1024),
  TANDEM_ASSET_STORE: z.string().regex(/^(postgres|s3|dir:.+)$/, 'postgres, s3 or dir:<path>').default('postgres'),
  TANDEM_S3_BUCKET: z.string().min(1).optional(),
  TANDEM_S3_ENDPOINT: z.string().url().optional(),
  TANDEM_S3_REGION: z.string().min(1).default('us-east-1'),
  TANDEM_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  TANDEM_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  TANDEM_OUTBOUND_ALLOW_PRIVATE: z.string().optional(),
  TANDEM_SIGNING_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  TANDEM_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'smtp://user:pass@host:port or smtps://…').optional(),
  TANDEM_TRACKING_URL: z.string().url().regex(/^https?:\/\//, 'an http(s) URL').optional(),
  TANDEM_RENDER_THREADS: z.coerce.number().int().min(1).max(64).optional(),
});

/** Where asset files are kept (TANDEM_ASSET_STORE). */
export type AssetStoreConfig =
  | { readonly kind: 'postgres' }
  | { readonly kind: 'dir'; readonly path: string }
  | {
    readonly kind: 's3'; readonly bucket: string; readonly endpoint: string; readonly region: string;
    readonly accessKeyId: string; readonly secretAccessKey: string;
  };

export interface Config {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  readonly publicUrl: string;
  readonly workerConcurrency: number;
  /** How often a worker process records its heartbeat (src/worker/recovery.ts). */
  readonly workerHeartbeatMs: number;
  /** A worker process not seen for this long is dead: its locked jobs are unlocked for others. */
  readonly workerDeadAfterMs: number;
  readonly dbPoolSize: number;
  readonly dedupeDays: number;
  /** How often segments with time windows ("in the last 30 days") are re-evaluated. */
  readonly segmentTickSeconds: number;
  /** Distinct event types (type + name) the catalog records per workspace; later ones are stored, not catalogued. */
  readonly catalogMaxEventTypes: number;
  /** Property paths the catalog records per event type. */
  readonly catalogMaxProperties: number;
  /** How long a process trusts "this workspace has no dynamic segments"; a new segment is built after it. */
  readonly segmentCacheMs: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  readonly trustProxy: boolean;
  /** Largest asset file accepted (upload or import), in bytes. */
  readonly assetMaxBytes: number;
  readonly assetStore: AssetStoreConfig;
  /** Private addresses outbound requests to user URLs may reach: false (none), true (all), or CIDRs. */
  readonly outboundAllowPrivate: boolean | readonly string[];
  /** Key of signed links (unsubscribe, preferences, tracking); unset: one is made and kept in the database. */
  readonly signingSecret: string | undefined;
  /** An SMTP server every workspace sends email through unless it configures its own sender. */
  readonly smtpUrl: string | undefined;
  /** Base of the open pixel, click and view-in-browser URLs (a tracking domain); default: publicUrl. */
  readonly trackingUrl: string;
  /** Threads that compile and render templates (src/modules/content/render/pool.ts); default: one per core, at most 4. */
  readonly renderThreads: number;
}

export class ConfigError extends Error {}

/** `tandem pull` / `tandem apply`: where the server is and the App API key (flags override these). */
export interface ClientConfig {
  readonly url: string;
  readonly appKey: string | undefined;
}

/** Read apart from loadConfig: a client needs none of the server's settings (and must not fail on them). */
export function loadClientConfig(env: Record<string, string | undefined> = process.env): ClientConfig {
  const url = env.TANDEM_URL?.trim() || 'http://127.0.0.1:3000';
  const appKey = env.TANDEM_APP_KEY?.trim() || undefined;
  return Object.freeze({ url, appKey });
}

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid configuration ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unknown'}`);
  }
  const e = parsed.data;
  if (e.TANDEM_WORKER_DEAD_AFTER_MS < 3 * e.TANDEM_WORKER_HEARTBEAT_MS) {
    // Fewer than three missed heartbeats would take a busy, live worker for dead.
    throw new ConfigError('Invalid configuration TANDEM_WORKER_DEAD_AFTER_MS: at least 3 × TANDEM_WORKER_HEARTBEAT_MS');
  }
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.TANDEM_DATA_DIR),
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.TANDEM_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    workerConcurrency: e.TANDEM_WORKER_CONCURRENCY,
    workerHeartbeatMs: e.TANDEM_WORKER_HEARTBEAT_MS,
    workerDeadAfterMs: e.TANDEM_WORKER_DEAD_AFTER_MS,
    dbPoolSize: e.TANDEM_DB_POOL_SIZE,
    dedupeDays: e.TANDEM_DEDUPE_DAYS,
    segmentTickSeconds: e.TANDEM_SEGMENT_TICK_SECONDS,
    segmentCacheMs: e.TANDEM_SEGMENT_CACHE_MS,
    catalogMaxEventTypes: e.TANDEM_CATALOG_MAX_EVENT_TYPES,
    catalogMaxProperties: e.TANDEM_CATALOG_MAX_PROPERTIES,
    trustProxy: e.TANDEM_TRUST_PROXY === 'true',
    assetMaxBytes: e.TANDEM_ASSET_MAX_BYTES,
    assetStore: assetStore(e),
    outboundAllowPrivate: allowPrivate(e.TANDEM_OUTBOUND_ALLOW_PRIVATE),
    signingSecret: e.TANDEM_SIGNING_SECRET,
    smtpUrl: e.TANDEM_SMTP_URL,
    renderThreads: e.TANDEM_RENDER_THREADS ?? Math.max(1, Math.min(4, availableParallelism())),
    ...overrides,
    // After the overrides, so that an overridden publicUrl is also the tracking default.
    trackingUrl: overrides.trackingUrl ?? e.TANDEM_TRACKING_URL ?? overrides.publicUrl ?? e.TANDEM_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
  });
}

function assetStore(e: z.infer<typeof schema>): AssetStoreConfig {
  const spec = e.TANDEM_ASSET_STORE;
  if (spec === 'postgres') return { kind: 'postgres' };
  if (spec.startsWith('dir:')) return { kind: 'dir', path: path.resolve(spec.slice(4)) };
  const missing = (['TANDEM_S3_BUCKET', 'TANDEM_S3_ENDPOINT', 'TANDEM_S3_ACCESS_KEY_ID', 'TANDEM_S3_SECRET_ACCESS_KEY'] as const)
    .filter((k) => !e[k]);
  if (missing.length) throw new ConfigError(`Invalid configuration ${missing.join(', ')}: required when TANDEM_ASSET_STORE=s3`);
  return {
    kind: 's3', bucket: e.TANDEM_S3_BUCKET!, endpoint: e.TANDEM_S3_ENDPOINT!, region: e.TANDEM_S3_REGION,
    accessKeyId: e.TANDEM_S3_ACCESS_KEY_ID!, secretAccessKey: e.TANDEM_S3_SECRET_ACCESS_KEY!,
  };
}

function allowPrivate(value: string | undefined): boolean | readonly string[] {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  const cidrs = v.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    parseAllowList(cidrs);
  } catch {
    throw new ConfigError('Invalid configuration TANDEM_OUTBOUND_ALLOW_PRIVATE: true, false or a comma-separated list of CIDRs');
  }
  return Object.freeze(cidrs);
}
