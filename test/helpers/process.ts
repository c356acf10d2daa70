// Spawns the real `tandem` command (bin/tandem.js) for lifecycle and CLI tests, and inspects the
// embedded PostgreSQL of a data dir from the outside (postmaster.pid, ps).
import { alive } from '../../src/db/embedded-os.ts';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'bin', 'tandem.js');
const execFileP = promisify(execFile);

export type Env = Record<string, string | undefined>;

/** The child's environment: ours minus DATABASE_URL and Tandem settings, plus `env` (undefined removes). */
export function childEnv(env: Env): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) {
    if (key === 'DATABASE_URL' || key.startsWith('TANDEM_') || key === 'PORT' || key === 'HOST') delete base[key];
  }
  base.LOG_LEVEL = 'info';
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Sends a signal and waits for the process to exit (a kill -9 after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export function spawnTandem(args: string[], env: Env): Spawned {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  if (child.pid === undefined) throw new Error('tandem did not start');
  const spawned: Spawned = {
    child, pid: child.pid, exited, stdout: () => out, stderr: () => err,
    async stop(signal = 'SIGINT', timeoutMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return spawned;
}

export interface Result extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion. The kill after `timeoutMs` only ends a hung process: on a loaded machine
 * (load 30 on two cores) a CLI run that compiles TypeScript took over 60 s, so the default is generous.
 */
export async function runTandem(args: string[], env: Env, timeoutMs = 150_000): Promise<Result> {
  const p = spawnTandem(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  return { ...exit, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Like runTandem, but fails with the command's output unless it exits 0 with nothing on stderr
 * (CLI commands log warnings and errors there: a clean run has none).
 */
export async function runOk(args: string[], env: Env): Promise<string> {
  const r = await runTandem(args, env);
  if (r.code !== 0 || r.stderr !== '') {
    throw new Error(`tandem ${args.join(' ')} exited ${r.code ?? r.signal}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  }
  return r.stdout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `${baseUrl}/health/ready` until 200; fails early, with its output, if the process exits. */
export async function waitReady(baseUrl: string, p: Spawned, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | undefined;
  void p.exited.then((e) => (exit = e));
  for (;;) {
    if (exit) throw new Error(`tandem exited (${exit.code ?? exit.signal}) before it was ready\n${p.stderr()}\n${p.stdout()}`);
    const status = await fetch(`${baseUrl}/health/ready`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`tandem not ready after ${timeoutMs} ms\n${p.stderr()}\n${p.stdout()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the process has printed `text` (on stdout or stderr). */
export async function waitForOutput(p: Spawned, text: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.stdout().includes(text) && !p.stderr().includes(text)) {
    if (p.child.exitCode !== null) throw new Error(`tandem exited before printing "${text}"\n${p.stderr()}\n${p.stdout()}`);
    if (Date.now() > deadline) throw new Error(`tandem did not print "${text}" in ${timeoutMs} ms\n${p.stderr()}\n${p.stdout()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface DataDir {
  dir: string;
  pgdata: string;
  remove(): Promise<void>;
}

export async function tempDataDir(): Promise<DataDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-life-'));
  return {
    dir, pgdata: path.join(dir, 'pg'),
    async remove() {
      // Never leave a postmaster behind, even when a test failed half-way.
      for (const pid of await postmasters(path.join(dir, 'pg'))) {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Pids of postgres postmasters running on this data dir: `postgres -D <pgdata> ...` (pg_ctl and sh
 * excluded). A child the postmaster has just forked shows the same command line until it renames
 * itself, so processes whose parent also matches are children, not postmasters.
 */
export async function postmasters(pgdata: string): Promise<number[]> {
  const { stdout } = await execFileP('ps', ['-eo', 'pid=,ppid=,args=']);
  const matches = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m?.[1] || !m[2] || !m[3] || m[4] === undefined) continue;
    if (path.basename(m[3]) !== 'postgres') continue;
    if (!` ${m[4]} `.includes(` -D ${pgdata} `)) continue;
    matches.set(Number(m[1]), Number(m[2]));
  }
  return [...matches].filter(([, ppid]) => !matches.has(ppid)).map(([pid]) => pid);
}

/** The pid in <pgdata>/postmaster.pid, if the file exists. */
export async function postmasterPidFile(pgdata: string): Promise<number | undefined> {
  const text = await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number.parseInt(text.split('\n')[0] ?? '', 10);
}

/** Running: exists and is not a zombie (this machine's pid 1 reaps orphans lazily). */
export const isAlive = alive;

/** Samples the number of postmasters on a data dir until stopped; returns the largest count seen. */
export function watchPostmasters(pgdata: string, everyMs = 40): { stop(): Promise<{ max: number; samples: number }> } {
  let max = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, (await postmasters(pgdata)).length);
      samples++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { max, samples };
    },
  };
}

/** Exactly one JSON object on stdout (nothing else but the trailing newline). */
export function parseOneJson(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one line of JSON, got ${lines.length}:\n${stdout}`);
  const value: unknown = JSON.parse(lines[0] ?? '');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${stdout}`);
  return value as Record<string, unknown>;
}
