// The drain in a running worker: ingest marks people dirty and notifies; the worker's listener queues
// the drain, so membership follows an event within about a second with nobody calling drain() by hand.
// Rows marked while no worker listened are drained when one starts.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { startWorker } from '../../worker/runner.ts';
import { until as waitFor } from '../../../test/helpers/wait.ts';

let t: TestTandem;
let ws: string;

beforeAll(async () => {
  t = await createTestTandem({ worker: true });
  ws = (await t.workspace()).workspaceId;
});
afterAll(async () => t?.close());

const until = <T>(what: () => Promise<T | undefined>): Promise<T> => waitFor(what, 'a segments condition');

const built = (id: string) => until(async () => ((await t.services.db.selectFrom('segments').select('status')
  .where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst())?.status === 'ready' ? true : undefined));

const isMember = async (segmentId: string, userId: string): Promise<true | undefined> => {
  const r = await sql<{ x: number }>`SELECT 1 AS x FROM segment_members m JOIN people p ON p.workspace_id = m.workspace_id AND p.id = m.person_id
    WHERE m.workspace_id = ${ws} AND m.segment_id = ${segmentId} AND p.external_id = ${userId}`.execute(t.services.db);
  return r.rows.length > 0 ? true : undefined;
};

it('an event enters its person into a segment through the worker (nobody calls drain), and leaves no dirty row', async () => {
  const s = await t.services.segments.create(ws, { name: 'Pinged', key: 'pinged', kind: 'dynamic', definition: { type: 'event', name: 'ping', performed: true } });
  await t.services.ingest.ingest(ws, [{ type: 'identify', userId: 'early', traits: {}, timestamp: new Date() }], { source: 'api' });
  // The first build (2 s after the save) answers with the people of the moment.
  await built(s.id);
  const t0 = Date.now();
  await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'early', name: 'ping', properties: {}, timestamp: new Date() }], { source: 'api' });
  await until(() => isMember(s.id, 'early'));
  // How soon is a figure, not a pass mark: a loaded machine stretches it; the worker doing it at all is the point.
  process.stdout.write(`segments wakeup: member ${Date.now() - t0} ms after the event\n`);
  await until(async () => ((await t.services.db.selectFrom('segment_dirty').select('id').executeTakeFirst()) ? undefined : true));
});

it('people marked dirty while no worker listened are drained when a worker starts', async () => {
  const s = await t.services.segments.create(ws, { name: 'Ponged', key: 'ponged', kind: 'dynamic', definition: { type: 'event', name: 'pong', performed: true } });
  await built(s.id);
  await t.worker?.stop();
  await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'late', name: 'pong', properties: {}, timestamp: new Date() }], { source: 'api' });
  // The ingest has committed its dirty mark (the marker that a drain is owed) and nobody has drained it.
  expect(await t.services.db.selectFrom('segment_dirty').select('id').where('workspace_id', '=', ws).execute()).not.toEqual([]);
  expect(await isMember(s.id, 'late')).toBeUndefined();
  const again = await startWorker(t.services);
  try {
    await until(() => isMember(s.id, 'late'));
  } finally {
    await again.stop();
  }
});

it('listens again after its connection is killed, and a killed connection back in the pool is no concern of it', async () => {
  const listening = async () => (await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND query LIKE 'LISTEN tandem_segments_dirty%' AND state = 'idle'`.execute(t.services.db)).rows.map((r) => r.pid);
  await t.worker?.stop(); // only this test's worker listens
  const worker = await startWorker(t.services);
  try {
    const s = await t.services.segments.create(ws, { name: 'Zinged', key: 'zinged', kind: 'dynamic', definition: { type: 'event', name: 'zing', performed: true } });
    await built(s.id);
    const [pid] = await until(async () => ((await listening()).length === 1 ? await listening() : undefined));
    await sql`SELECT pg_terminate_backend(${pid}::int)`.execute(t.services.db);
    await until(async () => ((await listening()).some((p) => p !== pid) ? true : undefined)); // a new connection listens
    await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'zinger', name: 'zing', properties: {}, timestamp: new Date() }], { source: 'api' });
    await until(() => isMember(s.id, 'zinger'));
  } finally {
    await worker.stop();
  }
  // Its connection is now idle in the pool: killing it is the pool's business (it used to be released twice).
  const idle = (await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()
    AND pid <> pg_backend_pid() AND query LIKE 'UNLISTEN%'`.execute(t.services.db)).rows.map((r) => r.pid);
  expect(idle.length).toBeGreaterThan(0);
  for (const pid of idle) await sql`SELECT pg_terminate_backend(${pid}::int)`.execute(t.services.db);
  await until(async () => ((await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY(${idle}::int[])`
    .execute(t.services.db)).rows[0]?.n === 0 ? true : undefined));
  // The pool notices its dead connection on its own; the next query still gets an answer.
  expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(t.services.db)).rows).toEqual([{ one: 1 }]);
});

it('a sent message moves its person into a "received a message" segment through the delivery hook', async () => {
  const w = await t.workspace('messages');
  await t.services.ingest.ingest(w.workspaceId, [{ type: 'identify', userId: 'mia', traits: { email: 'mia@example.com' }, timestamp: new Date() }], { source: 'api' });
  const s = await t.services.segments.create(w.workspaceId, { name: 'Got mail', key: 'got-mail', kind: 'dynamic', definition: { type: 'message', activity: 'received', performed: true } });
  const worker = await startWorker(t.services);
  try {
    await until(async () => ((await t.services.db.selectFrom('segments').select('status').where('workspace_id', '=', w.workspaceId)
      .where('id', '=', s.id).executeTakeFirst())?.status === 'ready' ? true : undefined));
    const res = await t.app.inject({ method: 'POST', url: '/v1/send/email', headers: { authorization: `Bearer ${w.appApiKey}` },
      payload: { identifiers: { id: 'mia' }, subject: 'Hi', body: '<p>Hi</p>' } });
    expect(res.statusCode, res.body).toBe(200);
    await until(async () => {
      const r = await sql<{ x: number }>`SELECT 1 AS x FROM segment_members m JOIN people p ON p.workspace_id = m.workspace_id AND p.id = m.person_id
        WHERE m.workspace_id = ${w.workspaceId} AND m.segment_id = ${s.id} AND p.external_id = 'mia'`.execute(t.services.db);
      return r.rows.length > 0 ? true : undefined;
    });
  } finally {
    await worker.stop();
  }
});
