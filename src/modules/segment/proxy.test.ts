// context.ip from the request: X-Forwarded-For counts only when TANDEM_TRUST_PROXY says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, type TestTandem } from '../../../test/harness.ts';

async function ipStored(t: TestTandem, writeKey: string, userId: string): Promise<unknown> {
  const res = await t.app.inject({
    method: 'POST', url: '/v1/track', remoteAddress: '10.1.2.3',
    headers: { authorization: basic(writeKey), 'x-forwarded-for': '198.51.100.7' },
    payload: { userId, event: 'Seen' },
  });
  expect(res.statusCode).toBe(200);
  const row = await t.services.db.selectFrom('events').select('context').where('user_id', '=', userId).executeTakeFirstOrThrow();
  return row.context.ip;
}

describe('client address', () => {
  let direct: TestTandem;
  let proxied: TestTandem;
  beforeAll(async () => {
    direct = await createTestTandem();
    proxied = await createTestTandem({ config: { trustProxy: true } });
  });
  afterAll(async () => {
    await direct.close();
    await proxied.close();
  });

  it('ignores X-Forwarded-For by default', async () => {
    const ws = await direct.workspace();
    expect(await ipStored(direct, ws.writeKey, 'u-direct')).toBe('10.1.2.3');
  });

  it('reads X-Forwarded-For behind a trusted proxy', async () => {
    const ws = await proxied.workspace();
    expect(await ipStored(proxied, ws.writeKey, 'u-proxied')).toBe('198.51.100.7');
  });
});
