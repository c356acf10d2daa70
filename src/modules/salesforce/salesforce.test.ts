// The Salesforce connector against a local HTTP server that speaks the documented REST API: the OAuth
// token endpoint (client credentials and refresh token), SOQL queries (checked), sObject PATCHes
// (bodies checked), an expired session that forces one token refresh, and 5xx retries.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { soqlString } from './client.ts';

interface Call { method: string; path: string; auth?: string; form?: Record<string, string>; q?: string; body?: unknown }

interface FakeSalesforce {
  url: string;
  calls: Call[];
  /** email -> record ids per sObject */
  records: Record<string, { Lead: string[]; Contact: string[] }>;
  /** Answer 401 INVALID_SESSION_ID to the next N API calls. */
  expireNext: number;
  /** Answer 503 to the next N API calls. */
  failNext: number;
  tokensIssued: number;
  close(): Promise<void>;
}

const CLIENT = { id: 'consumer-key', secret: 'consumer-secret', refresh: 'refresh-token-1' };

async function fakeSalesforce(): Promise<FakeSalesforce> {
  const sf: FakeSalesforce = { url: '', calls: [], records: {}, expireNext: 0, failNext: 0, tokensIssued: 0, close: () => Promise.resolve() };
  let validToken = '';
  const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      const call: Call = { method: req.method ?? '', path: url.pathname, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) };
      sf.calls.push(call);
      if (req.method === 'POST' && url.pathname === '/services/oauth2/token') {
        expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
        call.form = Object.fromEntries(new URLSearchParams(raw));
        const f = call.form;
        const ok = f.client_id === CLIENT.id && (f.grant_type === 'client_credentials' ? f.client_secret === CLIENT.secret
          : f.grant_type === 'refresh_token' && f.refresh_token === CLIENT.refresh);
        if (!ok) return json(res, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
        validToken = `00Dxx!token-${++sf.tokensIssued}`;
        return json(res, 200, {
          access_token: validToken, signature: 'sig', instance_url: sf.url, id: `${sf.url}/id/00Dxx/005xx`, token_type: 'Bearer', issued_at: '1700000000000',
        });
      }
      if (sf.failNext > 0) {
        sf.failNext--;
        return json(res, 503, [{ message: 'Service unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);
      }
      if (sf.expireNext > 0 || req.headers.authorization !== `Bearer ${validToken}`) {
        sf.expireNext = Math.max(0, sf.expireNext - 1);
        validToken = sf.expireNext === 0 && req.headers.authorization === `Bearer ${validToken}` ? '' : validToken;
        return json(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      }
      if (req.method === 'GET' && url.pathname === '/services/data/v60.0/query') {
        const q = url.searchParams.get('q') ?? '';
        call.q = q;
        const m = /^SELECT Id FROM (Lead|Contact) WHERE Email = '((?:[^'\\]|\\.)*)'$/.exec(q);
        if (!m) return json(res, 400, [{ message: 'MALFORMED_QUERY', errorCode: 'MALFORMED_QUERY' }]);
        const email = (m[2] ?? '').replace(/\\(.)/g, '$1');
        const ids = sf.records[email]?.[m[1] as 'Lead' | 'Contact'] ?? [];
        return json(res, 200, { totalSize: ids.length, done: true, records: ids.map((Id) => ({ attributes: { type: m[1], url: `/services/data/v60.0/sobjects/${m[1]}/${Id}` }, Id })) });
      }
      const patch = /^\/services\/data\/v60\.0\/sobjects\/(Lead|Contact)\/([\w]+)$/.exec(url.pathname);
      if (req.method === 'PATCH' && patch) {
        expect(req.headers['content-type']).toBe('application/json');
        call.body = JSON.parse(raw);
        return res.writeHead(204).end();
      }
      return json(res, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  sf.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sf.close = () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); });
  return sf;
}

interface Job { payload: { workspaceId: string; email: string; optedOut: boolean; at: string }; key: string | null; queue_name: string | null }

async function pushJobs(t: TestTandem): Promise<Job[]> {
  const res = await sql<Job>`SELECT j.payload, j.key, q.queue_name FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks k ON k.id = j.task_id LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
    WHERE k.identifier = 'salesforce:push_consent' ORDER BY j.id`.execute(t.services.db);
  return res.rows;
}

describe('soqlString', () => {
  it('escapes backslashes and quotes as SOQL requires', () => {
    expect(soqlString('ann@example.com')).toBe("'ann@example.com'");
    expect(soqlString("o'brien\\x@example.com")).toBe("'o\\'brien\\\\x@example.com'");
    expect(soqlString('a"b\nc')).toBe("'a\\\"b\\nc'");
    expect(soqlString("' OR Email != '")).toBe("'\\' OR Email != \\''");
  });
});

describe('Salesforce connector against a local server speaking its REST API', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let sf: FakeSalesforce;
  const app = (method: 'GET' | 'PUT' | 'DELETE', payload?: object) =>
    t.app.inject({ method, url: '/api/connectors/salesforce', headers: { authorization: bearer(ws.appApiKey) }, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    t = await createTestTandem({ config: { outboundAllowPrivate: ['127.0.0.1/32'] } });
    ws = await t.workspace();
    sf = await fakeSalesforce();
  });
  afterAll(async () => {
    await sf.close();
    await t.close();
  });
  beforeEach(async () => {
    sf.calls.length = 0;
    await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.services.db);
  });

  it('PUT/GET/DELETE the connection; the secret is never answered', async () => {
    expect((await app('GET')).json()).toMatchObject({ error: { code: 'salesforce.not_connected' } });
    const put = await app('PUT', { instanceUrl: `${sf.url}/`, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ instanceUrl: sf.url, clientId: CLIENT.id, authFlow: 'client_credentials', lastSyncAt: null, lastSyncStatus: null, syncedCount: 0 });
    expect(put.body).not.toContain(CLIENT.secret);
    const got = await app('GET');
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toContain(CLIENT.secret);
    expect((await app('PUT', { instanceUrl: 'http://169.254.169.254', clientId: 'x', clientSecret: 'y' })).json())
      .toMatchObject({ error: { code: 'net.forbidden_address', field: 'instanceUrl' } });
    expect((await app('PUT', { instanceUrl: sf.url, clientId: 'x' })).json()).toMatchObject({ error: { code: 'request.invalid', field: 'clientSecret' } });
    expect((await app('DELETE')).statusCode).toBe(204);
    expect((await app('DELETE')).statusCode).toBe(404);
  });

  it('onConsentChange queues a push only with a connection and an email; a newer change replaces a pending one', async () => {
    const change = { workspaceId: ws.workspaceId, email: 'Ann@Example.com', optedOut: true, at: new Date() };
    expect(await t.services.salesforce.onConsentChange(t.services.db, change)).toBe(false);
    await app('PUT', { instanceUrl: sf.url, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    expect(await t.services.salesforce.onConsentChange(t.services.db, { ...change, email: null })).toBe(false);
    expect(await t.services.salesforce.onConsentChange(t.services.db, change)).toBe(true);
    expect(await t.services.salesforce.onConsentChange(t.services.db, { ...change, optedOut: false })).toBe(true);
    const jobs = await pushJobs(t);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ payload: { workspaceId: ws.workspaceId, email: 'ann@example.com', optedOut: false }, queue_name: `salesforce:${ws.workspaceId}` });
    // Rolled back with the consent change: nothing queued.
    await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.services.db);
    await expect(t.services.db.transaction().execute(async (tx) => {
      await t.services.salesforce.onConsentChange(tx, change);
      throw new Error('rollback');
    })).rejects.toThrow('rollback');
    expect(await pushJobs(t)).toEqual([]);
  });

  it('queries Leads and Contacts by escaped email and PATCHes HasOptedOutOfEmail on each', async () => {
    await app('PUT', { instanceUrl: sf.url, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    const email = "o'brien\\x@example.com";
    sf.records[email] = { Lead: ['00Q000000000001'], Contact: ['003000000000001', '003000000000002'] };
    await t.services.salesforce.onConsentChange(t.services.db, { workspaceId: ws.workspaceId, email, optedOut: true, at: new Date() });
    const [job] = await pushJobs(t);
    const tasks = t.services.salesforce.tasks();
    await tasks['salesforce:push_consent']!(job!.payload, {} as never);

    const [token, ...api] = sf.calls;
    expect(token).toMatchObject({ method: 'POST', path: '/services/oauth2/token', form: { grant_type: 'client_credentials', client_id: CLIENT.id, client_secret: CLIENT.secret } });
    expect(api.map((c) => [c.method, c.path, c.q ?? c.body])).toEqual([
      ['GET', '/services/data/v60.0/query', "SELECT Id FROM Lead WHERE Email = 'o\\'brien\\\\x@example.com'"],
      ['PATCH', '/services/data/v60.0/sobjects/Lead/00Q000000000001', { HasOptedOutOfEmail: true }],
      ['GET', '/services/data/v60.0/query', "SELECT Id FROM Contact WHERE Email = 'o\\'brien\\\\x@example.com'"],
      ['PATCH', '/services/data/v60.0/sobjects/Contact/003000000000001', { HasOptedOutOfEmail: true }],
      ['PATCH', '/services/data/v60.0/sobjects/Contact/003000000000002', { HasOptedOutOfEmail: true }],
    ]);
    expect(api.every((c) => c.auth === `Bearer 00Dxx!token-${sf.tokensIssued}`)).toBe(true);
    expect((await app('GET')).json()).toMatchObject({ lastSyncStatus: 'ok', lastSyncError: null, syncedCount: 3, lastSyncAt: expect.any(String) as unknown });

    // The token is kept in memory: the next push asks for none.
    sf.calls.length = 0;
    await t.services.salesforce.push({ workspaceId: ws.workspaceId, email, optedOut: false });
    expect(sf.calls.filter((c) => c.path === '/services/oauth2/token')).toEqual([]);
    expect(sf.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ HasOptedOutOfEmail: false }, { HasOptedOutOfEmail: false }, { HasOptedOutOfEmail: false }]);
  });

  it('a 401 (expired session) fetches a new token once and repeats the call', async () => {
    await app('PUT', { instanceUrl: sf.url, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    sf.records['bob@example.com'] = { Lead: ['00Q000000000009'], Contact: [] };
    await t.services.salesforce.push({ workspaceId: ws.workspaceId, email: 'bob@example.com', optedOut: true });
    const before = sf.tokensIssued;
    sf.calls.length = 0;
    sf.expireNext = 1;
    expect(await t.services.salesforce.push({ workspaceId: ws.workspaceId, email: 'bob@example.com', optedOut: true })).toEqual({ pushed: 1 });
    expect(sf.tokensIssued).toBe(before + 1);
    expect(sf.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /services/data/v60.0/query', 'POST /services/oauth2/token', 'GET /services/data/v60.0/query',
      'PATCH /services/data/v60.0/sobjects/Lead/00Q000000000009', 'GET /services/data/v60.0/query',
    ]);
  });

  it('the refresh token flow is used when a refresh token is given; refused credentials are recorded, not retried', async () => {
    await app('PUT', { instanceUrl: sf.url, clientId: CLIENT.id, refreshToken: CLIENT.refresh });
    expect((await app('GET')).json()).toMatchObject({ authFlow: 'refresh_token' });
    sf.calls.length = 0;
    await t.services.salesforce.push({ workspaceId: ws.workspaceId, email: 'nobody@example.com', optedOut: true });
    expect(sf.calls[0]).toMatchObject({ path: '/services/oauth2/token', form: { grant_type: 'refresh_token', client_id: CLIENT.id, refresh_token: CLIENT.refresh } });

    await app('PUT', { instanceUrl: sf.url, clientId: CLIENT.id, clientSecret: 'wrong' });
    expect(await t.services.salesforce.push({ workspaceId: ws.workspaceId, email: 'nobody@example.com', optedOut: true })).toEqual({ failed: 'salesforce.auth_failed' });
    expect((await app('GET')).json()).toMatchObject({
      lastSyncStatus: 'error', lastSyncError: expect.stringContaining('salesforce.auth_failed') as unknown,
    });
  });

  it('a 5xx makes the job fail (graphile retries it with backoff); the retry succeeds', async () => {
    await app('PUT', { instanceUrl: sf.url, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    sf.records['cy@example.com'] = { Lead: [], Contact: ['003000000000077'] };
    const task = t.services.salesforce.tasks()['salesforce:push_consent']!;
    const payload = { workspaceId: ws.workspaceId, email: 'cy@example.com', optedOut: true, at: new Date().toISOString() };
    sf.failNext = 1;
    await expect(task(payload, {} as never)).rejects.toThrow(/503/);
    expect((await app('GET')).json()).toMatchObject({ lastSyncStatus: 'error' });
    await task(payload, {} as never);
    expect((await app('GET')).json()).toMatchObject({ lastSyncStatus: 'ok', lastSyncError: null });
    expect(sf.calls.filter((c) => c.method === 'PATCH').map((c) => c.path)).toEqual(['/services/data/v60.0/sobjects/Contact/003000000000077']);
  });
});

describe('Salesforce connector with the default config', () => {
  it('refuses an instance URL on a loopback address', async () => {
    const t = await createTestTandem();
    try {
      const ws = await t.workspace();
      await expect(t.services.salesforce.connect(ws.workspaceId, { instanceUrl: 'http://127.0.0.1:9', clientId: 'a', clientSecret: 'b' }))
        .rejects.toMatchObject({ code: 'net.forbidden_address', field: 'instanceUrl' });
    } finally {
      await t.close();
    }
  });
});
