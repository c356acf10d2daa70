// The worker role: graphile-worker starts with every module's tasks and crontab, and runs jobs.
import { makeWorkerUtils } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from './harness.ts';

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
    const deadline = Date.now() + 15_000;
    let left = 1;
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = (await t.services.db.selectFrom('event_dedupe').select('message_id').where('workspace_id', '=', ws).execute()).length;
    }
    expect(left).toBe(0);
  });
});
