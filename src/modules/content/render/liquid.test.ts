// Safety of the Liquid engine: hostile templates stop within the bound with a stable code, no
// secret leaks, partials never come from disk, and the process keeps rendering afterwards.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../errors.ts';
import { Renderer } from './renderer.ts';
import { buildRenderData } from './scope.ts';

const CANARY = `secret-${Math.random().toString(36).slice(2)}`;
const previousCanary = process.env.TANDEM_CANARY;
beforeAll(async () => {
  process.env.TANDEM_CANARY = CANARY;
  // Start the render thread here, so that the bounds below time renders, not a thread's start.
  await renderer.render({ key: 'warm-up', html: 'x', data: {} });
}, 120_000);
afterAll(() => {
  if (previousCanary === undefined) delete process.env.TANDEM_CANARY;
  else process.env.TANDEM_CANARY = previousCanary;
});

const RENDER_MS = 100;
const renderer = new Renderer({ limits: { renderMs: RENDER_MS, memory: 1_000_000, outputChars: 200_000 } });
let n = 0;

const data = buildRenderData({
  person: { id: 'p-uuid', externalId: 'u1', email: 'ann@example.com', attributes: { first_name: 'Ann', plan: 'pro' } },
  event: { product: 'Lamp', price: 42 },
  trigger: { coupon: 'SAVE10' },
  workspace: { name: 'Acme' },
  links: { unsubscribe_url: 'https://t.example/u/abc', preferences_url: 'https://t.example/p/abc' },
});

// For the memory bounds: a time bound a loaded machine cannot reach first, so only the memory limit can trip.
const roomyTime = new Renderer({ limits: { renderMs: 10_000, memory: 1_000_000, outputChars: 200_000 } });

function render(html: string, partials: Record<string, string> = {}, subject = '', r: Renderer = renderer) {
  return r.render({ key: `t${n++}`, html, subject, partials, data });
}

async function failure(html: string, partials: Record<string, string> = {}, r: Renderer = renderer): Promise<AppError> {
  const err: unknown = await render(html, partials, '', r).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appErr = err as AppError;
  // Nothing from the environment in what an author or an API client would see.
  expect(JSON.stringify({ m: appErr.message, d: appErr.details })).not.toContain(CANARY);
  return appErr;
}

describe('variables', () => {
  it('exposes Customer.io and Tandem variables', async () => {
    const out = await render(
      '{{ customer.first_name }}|{{ customer.id }}|{{ customer.email }}|{{ customer.plan }}|{{ event.product }}|' +
        '{{ event.price | plus: 1 }}|{{ trigger.coupon }}|{{ person.id }}|{{ workspace.name }}',
    );
    expect(out.html).toBe('Ann|u1|ann@example.com|pro|Lamp|43|SAVE10|p-uuid|Acme');
  });

  it('prints the link tags (Customer.io names and Tandem alias), in partials too', async () => {
    const out = await render(
      '{% unsubscribe_url %}|{% manage_subscription_preferences_url %}|{% preferences_url %}|' +
        '[{% view_in_browser_url %}]|{{ message.unsubscribe_url }}|{% render "footer" %}',
      { footer: '<a href="{% unsubscribe_url %}">{{ customer.first_name }}</a>' },
    );
    expect(out.html).toBe(
      'https://t.example/u/abc|https://t.example/p/abc|https://t.example/p/abc|[]|https://t.example/u/abc|' +
        '<a href="https://t.example/u/abc">Ann</a>',
    );
  });
});

describe('no prototype or environment access', () => {
  it('renders every probe empty and never the canary', async () => {
    const probes = [
      '{{ constructor }}',
      '{{ a.constructor.constructor }}',
      '{{ __proto__ }}',
      '{{ customer.__proto__ }}',
      '{{ customer.constructor.name }}',
      '{{ customer.first_name.constructor }}',
      '{{ customer.hasOwnProperty }}',
      '{{ customer.toString }}',
      '{{ process.env.TANDEM_CANARY }}',
      '{{ process }}',
      '{{ global.process.env }}',
      '{{ globalThis }}',
      '{{ env.TANDEM_CANARY }}',
      '{% assign c = customer.constructor %}{{ c.constructor }}',
      '{{ "" | append: constructor.constructor }}',
    ];
    for (const probe of probes) {
      const out = await render(probe);
      expect(out.html, probe).toBe('');
    }
    const everything = await render('{{ customer | json }}{{ event | json }}{{ message | json }}');
    expect(everything.html).not.toContain(CANARY);
  });
});

describe('bounded time, memory, output and nesting', () => {
  const within = async (html: string, partials: Record<string, string> = {}, r: Renderer = renderer) => {
    const t0 = performance.now();
    const err = await failure(html, partials, r);
    const ms = performance.now() - t0;
    // Within the render thread's hard deadline, with room for a loaded machine's messaging.
    expect(ms).toBeLessThan(r.limits.deadlineMs * 2);
    return err;
  };

  it('stops a 100-million range', async () => {
    const err = await within('{% for i in (1..100000000) %}{{ i }}{% endfor %}', {}, roomyTime);
    expect(err.code).toBe('template.render_limit');
    expect(err.details.limit).toBe('memory');
  });

  it('stops nested loops by time', async () => {
    const err = await within('{% for i in (1..50000) %}{% for j in (1..50000) %}{% endfor %}{% endfor %}');
    expect(err.code).toBe('template.render_limit');
    expect(err.details.limit).toBe('time');
  });

  it('stops giant string building with append', async () => {
    const err = await within('{% assign s = "0123456789" %}{% for i in (1..60) %}{% assign s = s | append: s %}{% endfor %}', {}, roomyTime);
    expect(err.code).toBe('template.render_limit');
    expect(err.details.limit).toBe('memory');
  });

  it('stops output beyond the size cap', async () => {
    // Its own renderer with a generous time bound, so that only the output cap can trip (a loaded
    // machine must not turn this into a time-limit failure).
    const roomy = new Renderer({ limits: { renderMs: 10_000, deadlineMs: 60_000, memory: 1_000_000, outputChars: 200_000 } });
    const err: unknown = await roomy.render({ key: 'out', html: '{% for i in (1..50000) %}0123456789{% endfor %}', subject: '', partials: {}, data })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('template.render_limit');
    expect((err as AppError).details.limit).toBe('output');
  });

  it('stops partials that render themselves or each other', async () => {
    const self = await within('{% render "loop" %}', { loop: 'x{% render "loop" %}' });
    expect(self.code).toBe('template.render_limit');
    expect(self.details.limit).toBe('partial_depth');
    const mutual = await within('{% include "a" %}', { a: '{% include "b" %}', b: '{% include "a" %}' });
    expect(mutual.details.limit).toBe('partial_depth');
    const layout = await within('{% layout "l" %}', { l: '{% layout "l" %}' });
    expect(layout.details.limit).toBe('partial_depth');
  });

  it('keeps rendering after all of that', async () => {
    expect((await render('still {{ customer.first_name }}')).html).toBe('still Ann');
  });
});

describe('partials only from the map', () => {
  const onDisk = path.resolve(import.meta.dirname, '../../../../package.json');

  it.each([
    `{% render '/etc/passwd' %}`,
    `{% render '../../package.json' %}`,
    `{% include '../../../../package.json' %}`,
    `{% render '${onDisk}' %}`,
    `{% layout '/etc/hostname' %}x`,
    `{% render 'missing' %}`,
  ])('%s is not found, even when the file exists on disk', async (tpl) => {
    const err = await failure(tpl, { footer: 'f' });
    expect(err.code).toBe('template.partial_not_found');
    expect(err.message).not.toContain('root:');
  });

  it('resolves names from the map only, including path-like names', async () => {
    const out = await render(`{% render 'footer' %}|{% render '../x' %}`, { footer: 'F', '../x': 'X' });
    expect(out.html).toBe('F|X');
  });
});

describe('syntax errors', () => {
  it('reports line and column', async () => {
    const err = await failure('<p>\n  hello\n  {% if customer.vip %}\n</p>');
    expect(err.code).toBe('template.syntax');
    expect(err.details).toMatchObject({ line: 3, column: 3, part: 'body' });
    expect(err.message).toMatch(/line 3, column 3/);
  });

  it('reports the subject and unknown filters', async () => {
    const subj = await renderer
      .render({ key: `t${n++}`, html: 'x', subject: 'Hi {{ customer.first_name | nope }}', data })
      .catch((e: unknown) => e as AppError);
    expect(subj).toBeInstanceOf(AppError);
    expect((subj as AppError).details).toMatchObject({ part: 'subject', line: 1 });
  });

  it('names the partial that holds the error', async () => {
    const err = await failure('a\n{% render "bad" %}', { bad: 'ok\nok\n{% for x in %}' });
    expect(err.code).toBe('template.syntax');
    expect(err.details).toMatchObject({ partial: 'bad', line: 3 });
  });
});
