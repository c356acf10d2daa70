// The MJML + Liquid pipeline: Liquid survives MJML, CSS is inlined, MJML problems carry lines, the
// text part keeps links, and each template version compiles once.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../errors.ts';
import { Renderer } from './renderer.ts';
import { buildRenderData } from './scope.ts';

const source = `<mjml>
  <mj-head>
    <mj-style inline="inline">.note { color: #ff0000; }</mj-style>
  </mj-head>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text><h1>Hello {{ customer.first_name | default: "there" }}</h1></mj-text>
        <mj-text>{% if customer.vip %}<span class="note">VIP price</span>{% else %}Regular price{% endif %}</mj-text>
        <mj-button href="https://shop.example/p/{{ event.sku }}?u={{ customer.id }}">See {{ event.product }}</mj-button>
        <mj-raw>{% for item in event.items %}<p>{{ item.name }} x{{ item.qty }}</p>{% endfor %}</mj-raw>
        <mj-text><a href="{% unsubscribe_url %}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

const person = (first: string, vip: boolean) =>
  buildRenderData({
    person: { id: 'uuid-1', externalId: `u-${first}`, email: `${first}@example.com`, attributes: { first_name: first, vip } },
    event: { product: 'Lamp', sku: 'L-1', items: [{ name: 'Bulb', qty: 2 }, { name: 'Shade', qty: 1 }] },
    links: { unsubscribe_url: 'https://t.example/u/sig' },
  });

describe('MJML + Liquid', () => {
  it('keeps Liquid intact through MJML (text, if blocks, href, mj-raw) and inlines CSS', async () => {
    const r = new Renderer();
    const base = { key: 'welcome@1', mjml: source, subject: 'Hi {{ customer.first_name }}', preheader: 'For {{ customer.first_name }}' };
    const compiled = await r.compile(base);
    expect(compiled.html).toContain('{{ customer.first_name | default: "there" }}');
    expect(compiled.html).toContain('href="https://shop.example/p/{{ event.sku }}?u={{ customer.id }}"');
    expect(compiled.html).toContain('{% for item in event.items %}');

    const vip = await r.render({ ...base, data: person('Ann', true) });
    expect(vip.subject).toBe('Hi Ann');
    expect(vip.html).toContain('Hello Ann</h1>');
    expect(vip.html).toMatch(/<span class="note" style="color: ?#ff0000;?">VIP price<\/span>/);
    expect(vip.html).not.toContain('Regular price');
    expect(vip.html).toContain('href="https://shop.example/p/L-1?u=u-Ann"');
    expect(vip.html).toContain('<p>Bulb x2</p><p>Shade x1</p>');
    expect(vip.html).toContain('href="https://t.example/u/sig"');
    expect(vip.html).toMatch(/<body[^>]*><div class="tandem-preheader" style="display:none;[^"]*">For Ann<\/div>/);
    expect(vip.html).not.toMatch(/\{\{|\{%/);
    expect(vip.warnings).toEqual([]);

    const regular = await r.render({ ...base, data: person('Bob', false) });
    expect(regular.html).toContain('Regular price');
    expect(regular.html).not.toContain('VIP price');
  });

  it('makes a plain-text part with links as text [url]', async () => {
    const r = new Renderer();
    const out = await r.render({ key: 'welcome@1', mjml: source, preheader: 'hidden {{ customer.first_name }}', data: person('Ann', false) });
    expect(out.text).toContain('Hello Ann');
    expect(out.text).toContain('Regular price');
    expect(out.text).toContain('See Lamp [https://shop.example/p/L-1?u=u-Ann]');
    expect(out.text).toContain('Unsubscribe [https://t.example/u/sig]');
    expect(out.text).toContain('Bulb x2');
    expect(out.text).not.toContain('hidden Ann');
    expect(out.text).not.toMatch(/<|\{\{|\{%|\n{3,}/);
  });

  it('compiles once per key and again for a new key', async () => {
    const r = new Renderer();
    const runs = [1, 2, 3].map((i) => r.render({ key: 'k@1', mjml: source, data: person(`P${i}`, false) }));
    const outs = await Promise.all(runs);
    expect(outs.map((o) => /Hello (\w+)/.exec(o.html)?.[1])).toEqual(['P1', 'P2', 'P3']);
    await r.render({ key: 'k@1', mjml: source, data: person('P4', false) });
    expect(r.stats.compiles).toBe(1);
    expect(r.stats.hits).toBe(3);
    await r.render({ key: 'k@2', mjml: source.replace('Hello', 'Hey'), data: person('P5', false) });
    expect(r.stats.compiles).toBe(2);
  });

  it('evicts the least recently used version beyond the cache size', async () => {
    const r = new Renderer({ cacheSize: 2 });
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) await r.compile({ key, html: `<p>${key}</p>` });
    // a, b compile; a hit; c compiles (b evicted); a hit; b compiles again.
    expect(r.stats.compiles).toBe(4);
  });
});

describe('errors with positions', () => {
  it('reports MJML validation problems as warnings with line numbers', async () => {
    const bad = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text foo="bar">Hi {{ customer.first_name }}</mj-text>
      </mj-column>
    </mj-section>
    <mj-button href="https://x.example">Go</mj-button>
  </mj-body>
</mjml>`;
    const out = await new Renderer().render({ key: 'bad', mjml: bad, data: person('Ann', false) });
    expect(out.html).toContain('Hi Ann');
    const lines = out.warnings.map((w) => w.line).sort();
    expect(lines).toEqual([5, 8]);
    expect(out.warnings.every((w) => w.code === 'mjml.validation' && w.message.startsWith(`Line ${w.line}`))).toBe(true);
    expect(JSON.stringify(out.warnings)).not.toContain(process.cwd());
  });

  it('rejects MJML that cannot be parsed', async () => {
    const err = await new Renderer().compile({ key: 'x', mjml: '<p>not mjml</p>' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('template.mjml_invalid');
  });

  it('reports Liquid errors at the line of the MJML source, not of the compiled HTML', async () => {
    const broken = source.replace('{% endif %}', '');
    const err = await new Renderer().compile({ key: 'x', mjml: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('template.syntax');
    expect((err as AppError).details).toMatchObject({ part: 'body', line: 9 });
  });

  it('names the part a render-time limit was hit in', async () => {
    const r = new Renderer({ limits: { memory: 100_000 } });
    const hostile = '{% for i in (1..100000000) %}{% endfor %}';
    const inSubject = await r.render({ key: 's', html: '<p>x</p>', subject: hostile, data: {} }).catch((e: unknown) => e);
    expect((inSubject as AppError).details).toMatchObject({ part: 'subject', line: 1, limit: 'memory' });
    const inBody = await r.render({ key: 'b', html: `<p>\n\n${hostile}</p>`, subject: 'Hi\nthere', data: {} }).catch((e: unknown) => e);
    expect((inBody as AppError).code).toBe('template.render_limit');
    expect((inBody as AppError).details).toMatchObject({ part: 'body (compiled)', line: 3 });
  });

  it('does not cache a failed compile', async () => {
    const r = new Renderer();
    await r.compile({ key: 'x', html: '{% if %}' }).catch(() => undefined);
    const ok = await r.render({ key: 'x', html: 'fixed', data: {} });
    expect(ok.html).toBe('fixed');
  });
});

describe('HTML escaping of data', () => {
  const polyglot = `"><script>alert(1)</script><img src=x onerror=alert(2)>'`;
  const data = buildRenderData({
    person: { id: 'p1', attributes: { first_name: polyglot, bio: '<b>bold</b>' } },
    event: { note: polyglot },
  });

  it('escapes every output in the HTML part, and leaves subject and text as the person wrote them', async () => {
    const r = new Renderer();
    const out = await r.render({
      key: 'esc@1', data, subject: 'Hi {{ customer.first_name }}',
      html: '<p title="{{ event.note }}">Hi {{ customer.first_name }}</p>',
    });
    expect(out.html).not.toContain('<script>');
    expect(out.html).not.toContain('<img');
    expect(out.html).toContain('&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.html).toContain('title="&#34;&gt;&lt;script&gt;');
    expect(out.subject).toBe(`Hi ${polyglot}`);
    expect(out.text).toContain('<script>alert(1)</script>');
  });

  it('prints markup only through | raw, which the template author chooses', async () => {
    const r = new Renderer();
    const out = await r.render({ key: 'raw@1', data, html: '<div>{{ customer.bio | raw }}|{{ customer.bio }}</div>' });
    expect(out.html).toContain('<b>bold</b>|&lt;b&gt;bold&lt;/b&gt;');
  });

  it('escapes in partials too, and a template cannot name the tag that switches escaping', async () => {
    const r = new Renderer();
    const out = await r.render({
      key: 'partial@1', data, html: '<div>{% render "greet", who: customer.first_name %}</div>',
      partials: { greet: '<span>{{ who }}</span>' },
    });
    expect(out.html).toContain('<span>&#34;&gt;&lt;script&gt;');
    const err = await r.render({ key: 'switch@1', data, html: '{% tandem_part plain %}{{ customer.first_name }}' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('template.syntax');
  });
});
