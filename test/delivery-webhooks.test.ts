// The modules wired together: a transactional send emits `message.sent`, an unsubscribe emits
// `consent.changed`, both delivered to the workspace's endpoint by the worker and verified with the
// independent Standard Webhooks library.
import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from './harness.ts';
import { until } from './helpers/wait.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

interface Received { headers: http.IncomingHttpHeaders; body: string }

describe('delivery and consent events go out as signed webhooks', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let server: http.Server;
  const received: Received[] = [];
  let secret = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    t = await createTestTandem({ worker: true, config: { outboundAllowPrivate: ['127.0.0.1/32'] } });
    ws = await t.services.workspaces.create('Hooks');
    const endpoint = await t.services.webhooks.create(ws.workspaceId, { url: `http://127.0.0.1:${port}/hooks`, eventTypes: ['message.sent', 'consent.changed'] });
    secret = endpoint.secret;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => server.close(r));
  });

  const waitFor = (type: string) => until(() => received.find((r) => (JSON.parse(r.body) as { type: string }).type === type), `a ${type} webhook`);

  it('emits message.sent and consent.changed, signed', async () => {
    await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId: 'u-9', traits: { email: 'nia@example.com' }, timestamp: new Date() }], { source: 'api' });
    const res = await t.app.inject({
      method: 'POST', url: '/v1/send/email', headers: { authorization: bearer(ws.appApiKey) },
      payload: { identifiers: { id: 'u-9' }, subject: 'Hi', body: '<p>Hi</p>' },
    });
    const { delivery_id: deliveryId } = res.json<{ delivery_id: string }>();
    const sent = await waitFor('message.sent');
    const verified = new Webhook(secret).verify(sent.body, {
      'webhook-id': String(sent.headers['webhook-id']), 'webhook-timestamp': String(sent.headers['webhook-timestamp']),
      'webhook-signature': String(sent.headers['webhook-signature']),
    }) as { data: { deliveryId: string; to: string } };
    expect(verified.data).toMatchObject({ deliveryId, to: 'nia@example.com' });

    const personId = await t.services.people.find(ws.workspaceId, { userId: 'u-9' });
    await t.services.consent.setConsent(ws.workspaceId, personId!, { unsubscribedAll: { email: true } }, { source: 'api' });
    const changed = JSON.parse((await waitFor('consent.changed')).body) as { data: { personId: string; kind: string; to: string; source: string } };
    expect(changed.data).toMatchObject({ personId, kind: 'global', to: 'unsubscribed', source: 'api' });
  });
});
