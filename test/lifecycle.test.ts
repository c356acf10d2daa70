// The process lifecycle with the embedded PostgreSQL: real `tandem` processes on a temp data dir.
// Every case is about the embedded database, so DATABASE_URL is removed from the children's env
// (test/helpers/process.ts) even when the suite runs against an external server.
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort, isAlive, parseOneJson, postmasterPidFile, postmasters, runOk, spawnTandem, tempDataDir,
  waitForOutput, waitReady, watchPostmasters, type DataDir, type Spawned,
} from './helpers/process.ts';

const dirs: DataDir[] = [];
const procs: Spawned[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 5_000)));
  await Promise.all(dirs.splice(0).map((d) => d.remove()));
});

async function dataDir(): Promise<DataDir> {
  const d = await tempDataDir();
  dirs.push(d);
  return d;
}

function serve(command: 'start' | 'api' | 'worker', d: DataDir, port?: number): Spawned {
  const p = spawnTandem([command], { TANDEM_DATA_DIR: d.dir, PORT: String(port ?? 0), HOST: '127.0.0.1' });
  procs.push(p);
  return p;
}

function forget(p: Spawned): void {
  const i = procs.indexOf(p);
  if (i >= 0) procs.splice(i, 1);
}

/** Stops with SIGINT and expects a clean exit. */
async function interrupt(p: Spawned): Promise<void> {
  const exit = await p.stop('SIGINT');
  forget(p);
  expect(exit, `${p.stderr()}\n${p.stdout()}`).toEqual({ code: 0, signal: null });
}

/** No postmaster left on the data dir: no postmaster.pid, the given pid gone, none in ps. */
async function expectNoPostmaster(d: DataDir, pid?: number): Promise<void> {
  expect(await postmasterPidFile(d.pgdata)).toBeUndefined();
  if (pid !== undefined) expect(isAlive(pid)).toBe(false);
  expect(await postmasters(d.pgdata)).toEqual([]);
}

async function onePostmaster(d: DataDir): Promise<number> {
  const pids = await postmasters(d.pgdata);
  expect(pids).toHaveLength(1);
  expect(await postmasterPidFile(d.pgdata)).toBe(pids[0]);
  return pids[0] ?? -1;
}

async function createWorkspace(d: DataDir, name: string): Promise<{ workspaceId: string; appApiKey: string }> {
  const ws = parseOneJson(await runOk(['workspace', 'create', name, '--json'], { TANDEM_DATA_DIR: d.dir }));
  const { workspaceId, appApiKey } = ws;
  if (typeof workspaceId !== 'string' || typeof appApiKey !== 'string') throw new Error(`unexpected output: ${JSON.stringify(ws)}`);
  expect(appApiKey).toMatch(/^tdm_app_/);
  return { workspaceId, appApiKey };
}

async function workspaceSeenByServer(baseUrl: string, appApiKey: string): Promise<unknown> {
  const res = await fetch(`${baseUrl}/api/workspace`, { headers: { authorization: `Bearer ${appApiKey}` } });
  expect(res.status).toBe(200);
  return res.json();
}

describe('tandem start with the embedded PostgreSQL', () => {
  it('comes up ready and stops cleanly on SIGINT, taking its postmaster with it', async () => {
    const d = await dataDir();
    const port = await freePort();
    const p = serve('start', d, port);
    await waitReady(`http://127.0.0.1:${port}`, p);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    const pm = await onePostmaster(d);

    await interrupt(p);
    await expectNoPostmaster(d, pm);
  }, 60_000);

  it('serves CLI commands run beside it, then survives a kill -9: the next start has the data and no postmaster is left', async () => {
    const d = await dataDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = serve('start', d, port);
    await waitReady(base, first);
    const pm = await onePostmaster(d);

    // A CLI command uses the server's postmaster and leaves it running.
    const ws = await createWorkspace(d, 'Beside the server');
    expect(await workspaceSeenByServer(base, ws.appApiKey)).toMatchObject({ id: ws.workspaceId, name: 'Beside the server' });
    expect(await postmasters(d.pgdata)).toEqual([pm]);

    const killed = await first.stop('SIGKILL');
    forget(first);
    expect(killed.signal).toBe('SIGKILL');
    // The postmaster runs in its own session, so it outlives Tandem; the next start adopts it.
    expect(isAlive(pm)).toBe(true);

    const second = serve('start', d, port);
    await waitReady(base, second);
    expect(await workspaceSeenByServer(base, ws.appApiKey)).toMatchObject({ id: ws.workspaceId });
    expect(await postmasters(d.pgdata)).toHaveLength(1);

    await interrupt(second);
    await expectNoPostmaster(d, pm);
  }, 60_000);
});

describe('CLI commands without a server', () => {
  it('start a postmaster for their duration and leave none behind; data persists between them', async () => {
    const d = await dataDir();
    const ws = await createWorkspace(d, 'Alone');
    await expectNoPostmaster(d);
    const listed = JSON.parse(await runOk(['workspace', 'list', '--json'], { TANDEM_DATA_DIR: d.dir })) as unknown;
    expect(listed).toEqual([expect.objectContaining({ id: ws.workspaceId, name: 'Alone' })]);
    await expectNoPostmaster(d);
  }, 60_000);

  it('never run two postmasters on one data dir, even when started together on a fresh one', async () => {
    const d = await dataDir();
    const watch = watchPostmasters(d.pgdata);
    const results = await Promise.all([
      runOk(['workspace', 'create', 'One', '--json'], { TANDEM_DATA_DIR: d.dir }),
      runOk(['workspace', 'create', 'Two', '--json'], { TANDEM_DATA_DIR: d.dir }),
      runOk(['migrate'], { TANDEM_DATA_DIR: d.dir }),
    ]);
    const { max, samples } = await watch.stop();
    expect(samples).toBeGreaterThan(5);
    expect(max).toBe(1);
    const [one, two] = results.slice(0, 2).map((out) => parseOneJson(out));
    expect(one?.name).toBe('One');
    expect(two?.name).toBe('Two');
    expect(results[2]).toContain('migrations applied');
    await expectNoPostmaster(d);
  }, 60_000);
});

describe('tandem api and tandem worker as separate processes', () => {
  it('share one postmaster; it stops only when the last of them stops', async () => {
    const d = await dataDir();
    const port = await freePort();
    const api = serve('api', d, port);
    const worker = serve('worker', d);
    await waitReady(`http://127.0.0.1:${port}`, api);
    await waitForOutput(worker, 'Worker connected and looking for jobs');
    const pm = await onePostmaster(d);

    await interrupt(api);
    // The worker still uses it.
    expect(await postmasters(d.pgdata)).toEqual([pm]);
    expect(worker.child.exitCode).toBeNull();

    await interrupt(worker);
    await expectNoPostmaster(d, pm);
  }, 60_000);
});
