// The worker role: graphile-worker starts with every module's tasks and crontab, and runs jobs.
import { makeWorkerUtils } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from './harness.ts';
import { until } from './helpers/wait.ts';

describe('worker', () => {
  const clock = new FakeClock(new Date('2026-05-01T00:00:00Z'));
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem({ worker: true, clock }); });
  afterAll(async () => { await t.close(); });

  it('starts with the modules\' crontab and runs the dedupe purge as a job', async () => {
    const ws = (await t.workspace()).workspaceId;
    await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'u', name: 'E', messageId: 'old', timestamp: clock.now() }], { source: 'api' });
    clock.advance(8 * 86_400_000);
    const utils = await makeWorkerUtils({ pgPool: t.services.pool });
    try {
      await utils.addJob('events:purge_dedupe', {});
    } finally {
      await utils.release();
    }
    const left = () => t.services.db.selectFrom('event_dedupe').select('message_id').where('workspace_id', '=', ws).execute();
    await until(async () => (await left()).length === 0, 'the purge job to empty event_dedupe');
    expect(await left()).toEqual([]);
  });
});
