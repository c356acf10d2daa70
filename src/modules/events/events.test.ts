import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';

describe('message id dedupe window', () => {
  const clock = new FakeClock(new Date('2026-05-01T00:00:00Z'));
  let t: TestTandem;
  let ws: string;
  beforeAll(async () => {
    t = await createTestTandem({ clock });
    ws = (await t.workspace()).workspaceId;
  });
  afterAll(async () => { await t.close(); });

  const send = () => t.services.ingest.ingest(ws, [{ type: 'track', userId: 'u', name: 'E', messageId: 'same', timestamp: clock.now() }], { source: 'api' });

  it('drops a repeat within 7 days and accepts it again after the window is purged', async () => {
    expect((await send()).outcomes).toEqual(['stored']);
    clock.advance(6 * 86_400_000);
    expect(await t.services.events.purgeDedupe()).toBe(0);
    expect((await send()).outcomes).toEqual(['duplicate']);
    clock.advance(2 * 86_400_000);
    expect(await t.services.events.purgeDedupe()).toBe(1);
    expect((await send()).outcomes).toEqual(['stored']);
  });

  it('runs the purge as a graphile-worker task', () => {
    const tasks = t.services.events.tasks();
    expect(Object.keys(tasks)).toContain('events:purge_dedupe');
  });
});
