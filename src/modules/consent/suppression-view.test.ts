// Suppression is visible and reversible at the address level: what stops a send shows in
// /api/suppressions and in the person's consent view, and lifting it (by person or by address) lets
// the next send through. The reported sequence: delete-and-suppress a person, unsuppress them by id,
// then a send to their email ended `suppressed` while /api/suppressions was empty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

let t: TestTandem;
let ws: CreatedWorkspace;

const app = (method: string, path: string, body?: unknown) => t.app.inject({
  method: method as 'GET', url: path, headers: { authorization: bearer(ws.appApiKey) }, ...(body ? { payload: body as Record<string, unknown> } : {}),
});
const track = (path: string) => t.app.inject({ method: 'POST', url: `/api/v1${path}`, headers: { authorization: basic(ws.siteId, ws.trackApiKey) } });

async function identify(userId: string, email: string): Promise<string | undefined> {
  await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId, traits: { email }, timestamp: new Date() }], { source: 'api' });
  return t.services.people.find(ws.workspaceId, { userId });
}

async function listed(address: string): Promise<Array<{ reason: string; source: string }>> {
  const res = await app('GET', '/api/suppressions?channel=email');
  expect(res.statusCode).toBe(200);
  return res.json<{ suppressions: Array<{ address: string; reason: string; source: string }> }>().suppressions
    .filter((s) => s.address === address).map(({ reason, source }) => ({ reason, source }));
}

/** Sends an inline email to `to` and answers its final status. */
async function sendTo(to: string): Promise<string> {
  const res = await app('POST', '/v1/send/email', { to, subject: 'Hello', body: '<p>Hi</p>' });
  expect(res.statusCode).toBe(200);
  const id = res.json<{ delivery_id: string }>().delivery_id;
  await t.services.delivery.send(ws.workspaceId, id);
  return (await t.services.delivery.message(ws.workspaceId, id))?.status ?? 'missing';
}

beforeAll(async () => {
  t = await createTestTandem();
  ws = await t.workspace('Suppressions');
});
afterAll(async () => { await t.close(); });

describe('suppression state', () => {
  it('the reported sequence: suppress a person, unsuppress them by id, then a send succeeds', async () => {
    const email = 'ghost@example.com';
    expect(await identify('ghost', email)).toBeDefined();
    expect((await track('/customers/ghost/suppress')).statusCode).toBe(200);
    // Visible: the deleted person's email is on the list, with why.
    expect(await listed(email)).toEqual([{ reason: 'deleted_person', source: 'person_deleted' }]);
    expect(await sendTo(email)).toBe('suppressed');
    // Unsuppressing the person by id lifts everything that deletion marked, the email included.
    expect((await track('/customers/ghost/unsuppress')).statusCode).toBe(200);
    expect(await listed(email)).toEqual([]);
    expect(await sendTo(email)).toBe('sent');
    // And the person may come back.
    expect(await identify('ghost', email)).toBeDefined();
  });

  it('unsuppress by address lifts a deleted person\'s email (their user id stays suppressed) and is in the ledger', async () => {
    const email = 'gone@example.com';
    await identify('gone', email);
    expect((await track('/customers/gone/suppress')).statusCode).toBe(200);
    expect(await sendTo(email)).toBe('suppressed');
    const del = await app('DELETE', `/api/suppressions/email/${encodeURIComponent('Gone@Example.com')}`);
    expect(del.statusCode).toBe(204);
    expect(await listed(email)).toEqual([]);
    expect(await sendTo(email)).toBe('sent');
    expect(await identify('gone', 'other@example.com')).toBeUndefined();
    const [entry] = await t.services.consent.ledger(ws.workspaceId, { limit: 1 });
    expect(entry).toMatchObject({ kind: 'suppression', address: email, from: 'suppressed', to: 'allowed', source: 'api' });
    expect((await app('DELETE', `/api/suppressions/email/${encodeURIComponent(email)}`)).statusCode).toBe(404);
  });

  it('a person\'s consent view says why they are suppressed, until it is lifted', async () => {
    const id = await identify('bounced', 'Bounced@Example.com');
    const view = async () => (await app('GET', `/api/people/${id}/consent`)).json<{ suppressions: Array<{ channel: string; address: string; reason: string; source: string }> }>();
    expect((await view()).suppressions).toEqual([]);
    await t.services.consent.suppress(ws.workspaceId, 'email', 'bounced@example.com', 'hard_bounce', 'bounce');
    expect((await view()).suppressions).toMatchObject([{ channel: 'email', address: 'bounced@example.com', reason: 'hard_bounce', source: 'bounce' }]);
    expect(await listed('bounced@example.com')).toEqual([{ reason: 'hard_bounce', source: 'bounce' }]);
    expect((await app('DELETE', '/api/suppressions/email/bounced@example.com')).statusCode).toBe(204);
    expect((await view()).suppressions).toEqual([]);
    expect(await sendTo('bounced@example.com')).toBe('sent');
  });
});
