// The only reader of process.env. Parsed once at start, frozen, passed in.
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  TANDEM_DATA_DIR: z.string().default('./.tandem'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TANDEM_PUBLIC_URL: z.string().url().optional(),
  TANDEM_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  TANDEM_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  TANDEM_DEDUPE_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  TANDEM_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
});

export interface Config {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  readonly publicUrl: string;
  readonly workerConcurrency: number;
  readonly dbPoolSize: number;
  readonly dedupeDays: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  readonly trustProxy: boolean;
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid configuration ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unknown'}`);
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.TANDEM_DATA_DIR),
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.TANDEM_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    workerConcurrency: e.TANDEM_WORKER_CONCURRENCY,
    dbPoolSize: e.TANDEM_DB_POOL_SIZE,
    dedupeDays: e.TANDEM_DEDUPE_DAYS,
    trustProxy: e.TANDEM_TRUST_PROXY === 'true',
    ...overrides,
  });
}
