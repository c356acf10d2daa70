import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.ts';
import { createContentClient, mapLimit, type TransportRequest, type TransportResponse } from './client.ts';
import { pull } from './pull.ts';

function fake(answer: (req: TransportRequest) => TransportResponse) {
  const seen: TransportRequest[] = [];
  const client = createContentClient((req) => {
    seen.push(req);
    return Promise.resolve(answer(req));
  });
  return { client, seen };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; field: string | undefined }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return { code: err.code, message: err.message, field: err.field };
}

const summary = (name: string) => ({ id: `snp_${name}`, kind: 'snippet', name, draftVersion: 1, publishedVersion: null });

describe('content client', () => {
  it('lists every page, following next', async () => {
    const { client, seen } = fake((req) => req.path.includes('after=b')
      ? { status: 200, body: { resources: [summary('c')], next: null } }
      : { status: 200, body: { resources: [summary('a'), summary('b')], next: 'b' } });
    expect((await client.list('snippet')).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(seen.map((r) => r.path)).toEqual(['/api/content/snippets?limit=500', '/api/content/snippets?limit=500&after=b']);
  });

  it('keeps the server\'s error code and field, and calls anything else a remote error', async () => {
    const taken = fake(() => ({ status: 409, body: { error: { code: 'content.name_taken', message: 'Taken.', field: 'name' } } }));
    expect(await failure(taken.client.create('snippet', 'a', { liquid: 'x' }))).toEqual({
      code: 'content.name_taken', message: 'POST /api/content/snippets: Taken. (field name)', field: 'name',
    });
    const html = fake(() => ({ status: 200, body: undefined }));
    expect(await failure(html.client.list('layout'))).toMatchObject({ code: 'ascode.remote_error', message: expect.stringContaining('is the URL a Tandem server?') as unknown });
    const unknownCode = fake(() => ({ status: 500, body: { error: { code: 'something.new', message: 'x' } } }));
    expect(await failure(unknownCode.client.get('layout', 'lay_1'))).toMatchObject({ code: 'ascode.remote_error', message: 'GET /api/content/layouts/lay_1: unexpected HTTP 500 from the server' });
  });
});

describe('pull from an untrustworthy server', () => {
  it('refuses a name that could climb out of the directory, before writing anything', async () => {
    const { client } = fake((req) => ({
      status: 200, body: { resources: req.path.startsWith('/api/content/snippets') ? [summary('../../evil')] : [], next: null },
    }));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-ascode-unit-'));
    try {
      expect(await failure(pull({ dir: path.join(dir, 'out'), client }))).toMatchObject({
        code: 'ascode.remote_error', message: 'the server sent a snippet named "../../evil", which is not a resource name',
      });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a segment key that could climb out of the directory, before writing anything', async () => {
    const evil = { id: 'seg_1', key: '../../evil', name: 'Evil', description: '', kind: 'manual', definition: null, version: 1 };
    const { client } = fake((req) => ({
      status: 200, body: req.path === '/api/segments' ? { segments: [evil] } : { resources: [], next: null },
    }));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-ascode-unit-'));
    try {
      expect(await failure(pull({ dir: path.join(dir, 'out'), client }))).toMatchObject({
        code: 'ascode.remote_error', message: 'the server sent a segment keyed "../../evil", which is not a segment key',
      });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mapLimit', () => {
  it('keeps the order, runs at most `limit` at once, and starts nothing after a failure', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);

    const started: number[] = [];
    const err = await mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, 1));
      if (n === 2) throw new Error('boom');
      return n;
    }).then(() => undefined, (e: unknown) => e);
    expect(err).toEqual(new Error('boom'));
    expect(started.length).toBeLessThan(6);
  });
});
