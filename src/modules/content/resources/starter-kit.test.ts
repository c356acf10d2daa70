// Every new workspace gets the starter kit as stored resources in the one props-schema format: the
// brand layout and every component, published at version 1, read back exactly as defined.
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

  it('installs the brand layout and every starter component, props schemas included, published', async () => {
    const kit = starterKit();
    const layout = await t.services.content.getByName(ws, 'layout', kit.layout.name);
    expect(layout?.published?.body).toEqual({ mjml: kit.layout.mjml });
    for (const c of kit.components) {
      const stored = await t.services.content.getByName(ws, 'component', c.name);
      expect(stored?.publishedVersion).toBe(1);
      expect(stored?.published?.body).toEqual({ mjml: c.mjml, props: c.schema, ...(c.defaults ? { defaults: c.defaults } : {}) });
    }
    const page = await t.services.content.list(ws, 'component', { limit: 100 });
    expect(page.resources.map((r) => r.name).sort()).toEqual(kit.components.map((c) => c.name).sort());
  });

  it('rolls the workspace back when the kit cannot be installed', async () => {
    const before = (await t.services.workspaces.list()).length;
    t.services.workspaces.onCreated(() => Promise.reject(new Error('boom')));
    await expect(t.workspace('Broken')).rejects.toThrow('boom');
    expect((await t.services.workspaces.list()).length).toBe(before);
  });
});
