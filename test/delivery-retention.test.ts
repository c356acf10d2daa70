// Message retention: `disable_message_retention` keeps no content at all; a workspace's
// `messageRetentionDays` forgets the HTML and text of older messages (the subject and timeline stay).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, FakeClock, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

describe('message retention', () => {
  const clock = new FakeClock(new Date('2026-03-01T10:00:00Z'));
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ clock });
    ws = await t.services.workspaces.create('Retention');
  });
  afterAll(async () => { await t.close(); });

  const send = async (body: object) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/send/email', headers: { authorization: bearer(ws.appApiKey) }, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    const id = res.json<{ delivery_id: string }>().delivery_id;
    await t.services.delivery.send(ws.workspaceId, id); // the job, run here
    return id;
  };
  const message = async (id: string) => (await t.services.delivery.message(ws.workspaceId, id))!;

  it('keeps nothing with disable_message_retention, and forgets old content after the workspace\'s days', async () => {
    const base = { to: 'ann@example.com', subject: 'Hello', body: '<p>Secret {{ trigger.code }}</p>', message_data: { code: '42' } };
    const kept = await send(base);
    const unkept = await send({ ...base, disable_message_retention: true });
    expect(await message(kept)).toMatchObject({ status: 'sent', subject: 'Hello', html: expect.stringContaining('Secret 42') as unknown });
    expect(await message(unkept)).toMatchObject({ status: 'sent', subject: null, html: null, text: null });

    await t.services.workspaces.update(ws.workspaceId, { settings: { messageRetentionDays: 30 } });
    const purge = t.services.delivery.tasks()['delivery:purge_content'];
    clock.advance(29 * 86_400_000);
    await purge();
    expect((await message(kept)).html).toContain('Secret 42');
    clock.advance(2 * 86_400_000);
    await purge();
    expect(await message(kept)).toMatchObject({ subject: 'Hello', html: null, text: null, status: 'sent' });
    expect((await message(kept)).events.map((e) => e.type)).toEqual(['queued', 'sent']);
  });
});
