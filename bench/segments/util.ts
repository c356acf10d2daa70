// Small helpers shared by the segments benchmark's steps (process spawning, HTTP, percentiles).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';

export const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function dbUrl(name: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function runCli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/tandem.js', ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`tandem ${argv.join(' ')} exited ${code}`))));
  });
}

export async function waitReady(url: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (server.exitCode !== null) throw new Error('Tandem exited during start');
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error('Tandem did not become ready');
}

export async function until(what: string, ms: number, check: () => Promise<boolean> | boolean, every = 25): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}


/** Stops the child (SIGINT, then SIGKILL after 15 s) and waits for it to exit. */
export async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGINT');
  const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A pool whose idle connections may be terminated without crashing the process: pool.end() resolves
 * before its sockets close, and the run's last step drops the database WITH (FORCE).
 */
export function benchPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}
