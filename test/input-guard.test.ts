// The examples of issue 11 §3, through the real app: each answered 500 (or was accepted) before the
// input guard; each is now 400 request.invalid naming the field, and nothing is stored.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

const DEEP = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

describe('input guard on the real routes', () => {
  let t: TestTandem;
  let w: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem();
    w = await t.workspace('Guard');
  });
  afterAll(async () => { await t.close(); });

  async function send(method: string, url: string, authorization: string, payload?: string) {
    const res = await t.app.inject({
      method: method as 'GET', url,
      headers: { authorization, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(payload !== undefined ? { payload } : {}),
    });
    const json = res.json<Record<string, unknown> & { error?: { code: string; field: string } }>();
    return { status: res.statusCode, code: json.error?.code ?? json.code, field: json.error?.field ?? json.field };
  }

  it('answers 400 request.invalid with the field for each example of the issue', async () => {
    const app = bearer(w.appApiKey);
    const track = basic(w.siteId, w.trackApiKey);
    const write = basic(w.writeKey);
    const cases: Array<[string, string, string, string | undefined, string]> = [
      ['POST', '/v1/send/email', app, JSON.stringify({ to: 'x@example.com', subject: 'a\u0000b', body: 'hi' }), 'subject'],
      ['POST', '/v1/send/email', app, JSON.stringify({ to: 'x@example.com', subject: 'x', body: 'a\ud800b' }), 'body'],
      ['POST', '/v1/send/email', app, `{"to":"x@example.com","subject":"x","body":"hi","message_data":${DEEP}}`, `message_data.${Array(63).fill('a').join('.')}`],
      ['GET', '/api/people/a%00b', app, undefined, 'params.id'],
      ['GET', '/v1/customers?email=a%00b', app, undefined, 'querystring.email'],
      ['GET', '/api/dev-inbox?q=a%00b', app, undefined, 'querystring.q'],
      ['GET', '/api/assets?q=a%00b', app, undefined, 'querystring.q'],
      ['POST', '/api/segments/preview', app, JSON.stringify({ definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'a\u0000' } }), 'definition.value'],
      ['PATCH', '/api/workspace', app, JSON.stringify({ name: 'a\u0000' }), 'name'],
      ['POST', '/api/keys', app, JSON.stringify({ kind: 'app', name: 'a\udc00' }), 'name'],
      ['POST', '/api/senders', app, JSON.stringify({ name: 'a\u0000', channel: 'email', config: { kind: 'smtp', url: 'smtp://mail.example.com' } }), 'name'],
      ['PUT', '/api/connectors/salesforce', app, JSON.stringify({ instanceUrl: 'https://x.my.salesforce.com', clientId: 'x', clientSecret: '\u0000' }), 'clientSecret'],
      ['PUT', '/api/v1/customers/%00', track, JSON.stringify({ email: 'a@example.com' }), 'params.identifier'],
      ['POST', '/api/v2/batch', track, `{"batch":[{"type":"person","action":"identify","identifiers":{"id":"x"},"attributes":${DEEP}}]}`, `batch[0].attributes.${Array(61).fill('a').join('.')}`],
      ['POST', '/v1/track', write, JSON.stringify({ userId: 'u', event: 'E', timestamp: '0000-01-01T00:00:00Z' }), 'timestamp'],
      ['POST', '/v1/identify', write, JSON.stringify({ userId: 'u', timestamp: '0000-01-01T00:00:00Z' }), 'timestamp'],
      ['POST', '/v1/batch', write, JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'E' }, { type: 'track', userId: 'u', event: 'E', timestamp: '0000-06-01T00:00:00Z' }] }), 'batch[1].timestamp'],
      ['POST', '/v1/track', write, JSON.stringify({ userId: 'u', event: 'E', timestamp: '0001-01-01T00:00:00+01:00' }), 'timestamp'],
    ];
    const answers = [];
    for (const [method, url, auth, payload] of cases) answers.push({ url, ...(await send(method, url, auth, payload)) });
    expect(answers).toEqual(cases.map(([, url, , , field]) => ({ url, status: 400, code: 'request.invalid', field })));
    // A refused batch stores nothing (batches are atomic), and no call above stored an event.
    const events = await sql<{ n: string }>`SELECT count(*) AS n FROM events WHERE workspace_id = ${w.workspaceId}`.execute(t.services.db);
    expect(Number(events.rows[0]!.n)).toBe(0);
  });

  it('keeps accepting ingest calls with unstorable text: it becomes U+FFFD, as documented', async () => {
    const res = await send('POST', '/v1/identify', basic(w.writeKey), JSON.stringify({ userId: 'nul-user', traits: { ['n\u0000ame']: 'a\u0000b', dob: '0000-00-00' } }));
    expect(res.status).toBe(200);
    const person = await t.services.db.selectFrom('people').select('attributes').where('workspace_id', '=', w.workspaceId)
      .where('external_id', '=', 'nul-user').executeTakeFirstOrThrow();
    expect(person.attributes).toMatchObject({ ['n\uFFFDame']: 'a\uFFFDb', dob: '0000-00-00' });
  });
});
