// The starter kit and stored components share one props-schema format: every starter component and
// the brand layout can be stored as a resource and read back unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../../../test/harness.ts';
import { starterKit } from '../starter/index.ts';

describe('starter kit as stored resources', () => {
  let t: TestTandem;
  let ws: string;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = (await t.workspace('Kit')).workspaceId;
  });
  afterAll(async () => { await t.close(); });

  it('stores the brand layout and every starter component, props schemas included', async () => {
    const kit = starterKit();
    await t.services.content.create(ws, 'layout', kit.layout.name, { mjml: kit.layout.mjml });
    for (const c of kit.components) {
      const body = { mjml: c.mjml, props: c.schema, ...(c.defaults ? { defaults: c.defaults } : {}) };
      const saved = await t.services.content.create(ws, 'component', c.name, body);
      expect(saved.draft.body).toEqual(body);
    }
    const page = await t.services.content.list(ws, 'component', { limit: 100 });
    expect(page.resources.map((r) => r.name).sort()).toEqual(kit.components.map((c) => c.name).sort());
  });
});
