// RELIABILITY 11 and 18, outbound half: the SSRF corpus over every kind of connector that takes an
// address through the API (SMTP senders, webhook endpoints, the Salesforce connection, image import,
// the link checker), when saved and when connecting. A canary listener on loopback counts the
// connections that reach it: 0. Without a reply from the server, an SMTP failure reads the same
// whatever the cause, so statusReason cannot tell an open port from a closed one.
import net from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from './harness.ts';
import { createSmtpSender, SMTP_UNREACHABLE } from '../src/modules/delivery/smtp.ts';
import { ProviderError } from '../src/modules/delivery/providers/index.ts';
import { outboundPolicy, safeFetch } from '../src/net/index.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

interface Listener { port: number; connections: number; close(): Promise<void> }

async function listen(onSocket: (s: net.Socket) => void = (s) => s.destroy()): Promise<Listener> {
  const state = { connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return state.connections; },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Ways to write "this machine" or the private network: literal, bracketed, named, decimal, hex, IPv4-mapped, short. */
const CORPUS = ['127.0.0.1', '[::1]', 'localhost', '169.254.169.254', '10.0.0.1', '2130706433', '0x7f000001', '[::ffff:127.0.0.1]', '127.1', '0.0.0.0'];

describe('the outbound address guard covers every connector, when saved and when connecting', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let canary: Listener;
  const api = async (method: 'POST' | 'PUT' | 'PATCH', url: string, payload: object) => {
    const res = await t.app.inject({ method, url, headers: { authorization: bearer(ws.appApiKey) }, payload });
    return { status: res.statusCode, error: res.json<{ error?: { code: string; field?: string } }>().error };
  };

  beforeAll(async () => {
    canary = await listen();
    // The default: no private addresses (set here explicitly so the test does not depend on it).
    t = await createTestTandem({ config: { outboundAllowPrivate: false } });
    ws = await t.workspace('Guarded');
  });
  afterAll(async () => {
    await t?.close();
    await canary?.close();
  });

  it('refuses every address of the corpus when a connector is saved, with the field', async () => {
    const refused: string[] = [];
    const accepted: string[] = [];
    for (const host of CORPUS) {
      const hostPort = `${host}:${canary.port}`;
      const attempts = [
        { what: 'smtp sender', field: 'config.url', run: () => api('POST', '/api/senders', { name: 'x', channel: 'email', isDefault: false, config: { kind: 'smtp', url: `smtp://user:pw@${hostPort}` } }) },
        { what: 'smtps sender', field: 'config.url', run: () => api('POST', '/api/senders', { name: 'x', channel: 'email', isDefault: false, config: { kind: 'smtp', url: `smtps://${hostPort}` } }) },
        { what: 'webhook endpoint', field: 'url', run: () => api('POST', '/api/webhooks/endpoints', { url: `http://${hostPort}/hook`, eventTypes: ['*'] }) },
        { what: 'salesforce', field: 'instanceUrl', run: () => api('PUT', '/api/connectors/salesforce', { instanceUrl: `https://${hostPort}`, clientId: 'id', clientSecret: 'secret' }) },
        { what: 'asset import', field: undefined, run: () => api('POST', '/api/assets/import', { url: `http://${hostPort}/a.png` }) },
      ];
      for (const a of attempts) {
        const res = await a.run();
        const label = `${a.what} ${host}`;
        if (res.status === 400 && res.error?.code === 'net.forbidden_address' && (a.field === undefined || res.error.field === a.field)) refused.push(label);
        else accepted.push(`${label}: ${res.status} ${JSON.stringify(res.error)}`);
      }
    }
    // A webhook endpoint saved with a public name cannot be moved onto the corpus either.
    const ok = await t.app.inject({ method: 'POST', url: '/api/webhooks/endpoints', headers: { authorization: bearer(ws.appApiKey) }, payload: { url: 'https://93.184.215.14/hook', eventTypes: ['*'] } });
    expect(ok.statusCode, ok.body).toBe(201);
    const moved = await api('PATCH', `/api/webhooks/endpoints/${ok.json<{ id: string }>().id}`, { url: `http://localhost:${canary.port}/` });
    expect(moved).toMatchObject({ status: 400, error: { code: 'net.forbidden_address', field: 'url' } });
    console.log(`outbound guard at save: ${refused.length} refused, ${accepted.length} accepted, canary connections: ${canary.connections}`);
    expect(accepted).toEqual([]);
    expect(canary.connections).toBe(0);
  });

  it('refuses the corpus when connecting: a sender saved before the guard, the link checker, a name that rebinds', async () => {
    // A sender stored before this check existed (or by hand) becomes the default: its sends fail for good.
    await sql`INSERT INTO senders (workspace_id, id, channel, kind, name, config, is_default, rate_per_second, concurrency, created_at, updated_at)
      VALUES (${ws.workspaceId}, 'snd_00000000000000000001', 'email', 'smtp', 'Legacy', ${JSON.stringify({ kind: 'smtp', url: `smtp://127.0.0.1:${canary.port}` })}::jsonb, true, 10, 1, now(), now())`.execute(t.services.db);
    const sent = await t.app.inject({ method: 'POST', url: '/v1/send/email', headers: { authorization: bearer(ws.appApiKey) }, payload: { to: 'a@example.com', from: 'hi@acme.example', subject: 'Hi', body: '<p>Hi</p>' } });
    const id = sent.json<{ delivery_id: string }>().delivery_id;
    await t.services.delivery.send(ws.workspaceId, id);
    const m = await t.services.delivery.message(ws.workspaceId, id);
    expect(m).toMatchObject({ status: 'failed', statusReason: expect.stringContaining('not one Tandem may connect to') as unknown });

    // The link checker honours the same setting (it used to build its own client, with none).
    const links = CORPUS.map((h) => `<a href="http://${h}:${canary.port}/page">x</a>`).join(' ');
    const tpl = await t.app.inject({ method: 'POST', url: '/api/content/templates', headers: { authorization: bearer(ws.appApiKey) }, payload: {
      name: 'links', body: { channel: 'email', marketing: false, email: { subject: 'Links', layout: 'brand', blocks: [{ component: 'paragraph', props: { body: `<p>${links}</p>` } }] } },
    } });
    expect(tpl.statusCode, tpl.body).toBe(201);
    const check = await t.services.linkChecks.check(ws.workspaceId, tpl.json<{ id: string }>().id);
    const fetched = (check?.results ?? []).filter((r) => r.url.includes(String(canary.port)));
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.filter((r) => r.status !== 'blocked')).toEqual([]);

    // A public name at save time that answers with loopback at connect time.
    const rebinding = (address: string) => () => Promise.resolve([{ address, family: net.isIPv6(address) ? 6 : 4 }]);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '169.254.169.254']) {
      const smtp = createSmtpSender({ url: `smtp://mx.rebind.example:${canary.port}`, allowPrivate: false, resolve: rebinding(address) });
      const err = await smtp.send({ from: { address: 'a@acme.example' }, to: { address: 'b@example.com' }, subject: 's', html: 'h', text: 't', headers: {}, messageId: 'm' }).catch((e: unknown) => e);
      await smtp.close?.();
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('permanent');
      const http = await safeFetch(`http://hooks.rebind.example:${canary.port}/`, { resolve: rebinding(address) }).catch((e: unknown) => e);
      expect(http).toMatchObject({ code: 'net.forbidden_address' });
    }
    console.log(`outbound guard at connect: canary connections: ${canary.connections}`);
    expect(canary.connections).toBe(0);
  });

  it('an open port and a closed port give the same reason (allowed range, no SMTP reply)', async () => {
    const open = await listen((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const gone = await listen();
    const closedPort = gone.port;
    await gone.close();
    const reason = async (port: number) => {
      const smtp = createSmtpSender({ url: `smtp://127.0.0.1:${port}?ignoreTLS=true`, allowPrivate: outboundPolicy(['127.0.0.1/32']) });
      try {
        const err = await smtp.send({ from: { address: 'a@acme.example' }, to: { address: 'b@example.com' }, subject: 's', html: 'h', text: 't', headers: {}, messageId: 'm' }).catch((e: unknown) => e);
        return err instanceof ProviderError ? { message: err.message, kind: err.kind, status: err.status } : { message: String(err) };
      } finally {
        await smtp.close?.();
      }
    };
    const [fromOpen, fromClosed] = [await reason(open.port), await reason(closedPort)];
    await open.close();
    expect(open.connections).toBeGreaterThan(0);
    console.log(`statusReason open port: "${fromOpen.message}", closed port: "${fromClosed.message}"`);
    expect(fromOpen).toEqual(fromClosed);
    expect(fromOpen.message).toBe(SMTP_UNREACHABLE);
  });
});
