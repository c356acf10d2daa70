// The render threads: a render that outlives its deadline ends its thread (and the next render gets
// a fresh one), the calling thread's event loop keeps turning meanwhile, sizes are refused before any
// thread parses anything, ranges and array filters are bounded inside one filter call, and a closed
// pool fails requests retryably (not as template errors).
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../errors.ts';
import { Renderer } from './renderer.ts';

// Generous Liquid limits, so that only the hard deadline can stop the slow render below.
const slow = new Renderer({
  threads: 1,
  limits: { renderMs: 600_000, memory: 1e12, allocation: 1e12, arrayItems: 1e12, deadlineMs: 500, compileDeadlineMs: 20_000 },
});
const bounded = new Renderer({ threads: 1 });
afterAll(async () => {
  await slow.close();
  await bounded.close();
});

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** Which settles first: the render, or a 20 ms timer on this thread (it cannot fire while the loop is blocked). */
async function firstToSettle(render: Promise<unknown>): Promise<'render' | 'timer'> {
  return Promise.race([
    render.then(() => 'render' as const, () => 'render' as const),
    new Promise<'timer'>((resolve) => setTimeout(() => resolve('timer'), 20)),
  ]);
}

describe('the deadline', () => {
  it('ends a render that runs past it, without blocking this thread, and the next render gets a fresh thread', async () => {
    await slow.compile({ key: 'slow', html: '{% assign a = (1..3000000) | sort_natural %}{{ a | size }}' });
    const render = slow.render({ key: 'slow', html: '', data: {} });
    expect(await firstToSettle(render)).toBe('timer');
    const err = await failure(render);
    expect(err.code).toBe('template.render_limit');
    expect(err.details).toMatchObject({ limit: 'deadline' });
    expect(err.message).toContain('500 ms deadline');
    expect(slow.poolStats()).toMatchObject({ busy: 0, queued: 0 });

    const ok = await slow.render({ key: 'fine', html: '<p>{{ customer.name | upcase }}</p>', data: { customer: { name: 'ann' } } });
    expect(ok.html).toBe('<p>ANN</p>');
    // The slow version is still known to this renderer: the new thread compiles it again on demand.
    expect((await failure(slow.render({ key: 'slow', html: '', data: {} }))).details).toMatchObject({ limit: 'deadline' });
  }, 180_000);
});

describe('bounds inside one filter', () => {
  it('refuses a giant range where it is created', async () => {
    for (const filter of ['sort', 'sort_natural', 'uniq']) {
      const err = await failure(bounded.render({ key: `range-${filter}`, html: `{% assign a = (1..8000000) | ${filter} %}`, data: {} }));
      expect(err.code).toBe('template.render_limit');
      expect(err.details).toMatchObject({ limit: 'memory' });
      expect(err.message).toContain('one range or value of 8000000 items');
    }
  });

  it('refuses an array filter over its item bound before it starts, and allows one within it', async () => {
    for (const filter of ['sort', 'sort_natural', 'uniq', 'reverse', 'map: "x"', 'where: "x"', 'join']) {
      const err = await failure(bounded.render({ key: `array-${filter}`, html: `{% assign a = (1..20000) | ${filter} %}`, data: {} }));
      expect(err.details, filter).toMatchObject({ limit: 'array' });
    }
    const concat = await failure(bounded.render({ key: 'concat', html: '{% assign a = (1..3) | concat: trigger.big %}', data: { trigger: { big: Array.from({ length: 20_000 }, (_, i) => i) } } }));
    expect(concat.details).toMatchObject({ limit: 'array' });
    const ok = await bounded.render({ key: 'within', html: '{{ (1..2000) | sort | uniq | size }}', data: {} });
    expect(ok.html).toBe('2000');
  });
});

describe('sizes before parsing', () => {
  it('refuses a 200 KB MJML source without starting a thread', async () => {
    const fresh = new Renderer({ threads: 1 });
    try {
      const mjml = `<mjml><mj-body>${'<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>'.repeat(3000)}</mj-body></mjml>`;
      expect(mjml.length).toBeGreaterThan(200_000);
      const err = await failure(fresh.compile({ key: 'big', mjml }));
      expect(err.code).toBe('template.too_large');
      expect(fresh.poolStats().threads).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('fails 15,000 nested tables cleanly in a thread, not with a stack overflow here', async () => {
    const deep = `${'<table><tr><td>'.repeat(15_000)}x${'</td></tr></table>'.repeat(15_000)}`;
    const render = bounded.render({ key: 'deep', html: deep, data: {} });
    expect(await firstToSettle(render)).toBe('timer');
    const err = await failure(render);
    expect(err.code).toBe('template.render_limit');
    expect(['stack', 'deadline']).toContain(err.details['limit']);
  }, 60_000);
});

describe('closing', () => {
  it('fails requests on a closed pool with a plain (retryable) error', async () => {
    const r = new Renderer({ threads: 1 });
    await r.close();
    const err: unknown = await r.render({ key: 'x', html: 'x', data: {} }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AppError);
  });
});
