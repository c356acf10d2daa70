import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { composeEmail, protectPerPerson, type ComponentDef } from './compose.ts';
import { Renderer, buildRenderData } from './render/index.ts';
import { brandLayout, starterComponents, starterKit } from './starter/index.ts';

const renderer = new Renderer();
const components = new Map(starterComponents.map((c) => [c.name, c]));
const data = buildRenderData({
  person: { id: 'p-1', externalId: 'u-1', email: 'ann@example.com', attributes: { first_name: 'Ann', vip: true } },
  workspace: { name: 'Acme Home', postal_address: '1 Main Street\nSpringfield' },
  links: { unsubscribe_url: 'https://t.example/u/1.sig', preferences_url: 'https://t.example/p/1.sig' },
});

let keys = 0;
async function renderBlocks(blocks: { component: string; props?: unknown }[], comps: ReadonlyMap<string, ComponentDef> = components) {
  const mjml = composeEmail({ layout: brandLayout, blocks, components: comps });
  return renderer.render({ key: `compose-test:${keys++}`, mjml, subject: 'Hi', data });
}

function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

const expected: Record<string, string[]> = {
  logo_header: ['placehold.co/240x80', 'alt="Logo"', 'href="https://example.com"'],
  hero: ['Something new is here', 'href="https://example.com"', 'Find out more'],
  heading: ['A clear heading'],
  paragraph: ['<b>Bold</b>', '<a href="https://example.com"'],
  button: ['href="https://example.com/start"', 'Get started'],
  image: ['alt="A descriptive image"', 'A short caption'],
  two_columns: ['First point', 'Second point', 'href="https://example.com/two"'],
  product_card: ['Product name', '€49.00', 'href="https://example.com/product"', 'Shop now'],
  divider: ['border-top:solid 1px #e5e7eb'],
  footer: ['You receive this email', 'href="https://t.example/u/1.sig"', '1 Main Street<br />\nSpringfield'],
};

describe('starter kit', () => {
  it('has the brand layout and ten components, each with a schema and defaults', () => {
    const kit = starterKit();
    expect(kit.components.map((c) => c.name)).toEqual(Object.keys(expected));
    expect(kit.layout.mjml).toContain('{{ content }}');
    for (const c of kit.components) expect(Object.keys(c.schema).length).toBeGreaterThan(0);
  });

  it.each(starterComponents.map((c) => [c.name]))(
    '%s renders in the brand layout with its defaults, without MJML warnings',
    async (name) => {
      const out = await renderBlocks([{ component: name }]);
      expect(out.warnings).toEqual([]);
      for (const needle of expected[name] ?? []) expect(out.html).toContain(needle);
      // The layout's footer: postal address and the signed unsubscribe link, in HTML and text.
      expect(out.html).toContain('Springfield');
      expect(out.html).toContain('href="https://t.example/u/1.sig"');
      expect(out.text).toContain('Unsubscribe [https://t.example/u/1.sig]');
      expect(out.text).not.toMatch(/\{\{|\{%|<mj-|props\./);
    },
  );

  it('gives sensible plain text: button label with its URL, headings and paragraphs as text', async () => {
    const out = await renderBlocks([{ component: 'heading' }, { component: 'paragraph' }, { component: 'button' }]);
    expect(out.text).toContain('A clear heading');
    expect(out.text).toContain('Write a few friendly sentences here. Bold and links [https://example.com] are fine.');
    expect(out.text).toContain('Get started [https://example.com/start]');
  });

  it('stacks columns on phones (percentage widths, MJML mobile media query)', async () => {
    const out = await renderBlocks([{ component: 'two_columns' }, { component: 'product_card' }]);
    expect(out.html).toMatch(/@media only screen and \(min-width:480px\)/);
    expect(out.html).toContain('mj-column-per-50');
    expect(out.html).toContain('mj-column-per-40');
  });
});

describe('composeEmail', () => {
  it('composes a layout and eight components and renders them for a person', async () => {
    const blocks = [
      { component: 'logo_header' },
      { component: 'hero', props: { title: 'Spring sale', subtitle: 'Up to 30% off', background: '#112233', text_colour: '#ffffff' } },
      { component: 'heading', props: { text: 'Picked for you', colour: '#000000' } },
      { component: 'paragraph', props: { body: 'Hello <i>friend</i>, new arrivals are in.' } },
      { component: 'product_card' },
      { component: 'button', props: { link: { url: 'https://shop.example/?a=1&b=2', label: 'Shop the sale' }, background: '#0a7', text_colour: '#fff', full_width: true } },
      { component: 'divider', props: { colour: '#cccccc', thickness: 2 } },
      { component: 'two_columns' },
    ];
    const out = await renderBlocks(blocks);
    expect(out.warnings).toEqual([]);
    const order = ['placehold.co/240x80', 'Spring sale', 'Picked for you', 'Hello <i>friend</i>', 'Product name', 'Shop the sale', '#cccccc', 'First point'];
    const positions = order.map((s) => out.html.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out.html).toContain('href="https://shop.example/?a=1&amp;b=2"');
    expect(out.text).toContain('Shop the sale [https://shop.example/?a=1&b=2]');
    expect(out.html).toContain('Acme Home');
  });

  it('keeps per-person Liquid in a component for the Renderer and runs props at compose time', async () => {
    const greet: ComponentDef = {
      name: 'greet',
      mjml: `<mj-section><mj-column><mj-text>{{ props.greeting }}, {{ customer.first_name | default: "there" }}!{% if customer.vip %} {{ props.vip_note }}{% endif %}{% for item in props.items %} [{{ item.label }}]{% endfor %}</mj-text></mj-column></mj-section>`,
      schema: {
        greeting: { type: 'text' },
        vip_note: { type: 'text' },
        items: { type: 'list', items: { label: { type: 'text' } } },
      },
    };
    const comps = new Map([['greet', greet]]);
    const mjml = composeEmail({
      layout: brandLayout,
      blocks: [{ component: 'greet', props: { greeting: 'Hello', vip_note: 'Thanks for being VIP.', items: [{ label: 'a' }, { label: 'b' }] } }],
      components: comps,
    });
    expect(mjml).toContain('Hello, {{ customer.first_name | default: "there" }}!{% if customer.vip %} Thanks for being VIP.{% endif %} [a] [b]');
    const out = await renderer.render({ key: `compose-test:${keys++}`, mjml, data });
    expect(out.html).toContain('Hello, Ann! Thanks for being VIP. [a] [b]');
  });

  it('refuses a tag that mixes props with per-person data', () => {
    const err = appError(() => protectPerPerson('{{ customer.name | default: props.x }}', 'blocks[0].component'));
    expect(err.code).toBe('request.invalid');
    expect(err.field).toBe('blocks[0].component');
  });

  it('names an unknown component and a layout without a slot', () => {
    const err = appError(() => composeEmail({ layout: brandLayout, blocks: [{ component: 'hero' }, { component: 'nope' }], components }));
    expect(err.code).toBe('request.invalid');
    expect(err.field).toBe('blocks[1].component');
    const noSlot = appError(() => composeEmail({ layout: { mjml: '<mjml><mj-body></mj-body></mjml>' }, blocks: [], components }));
    expect(noSlot.field).toBe('layout');
  });
});

describe('props validation', () => {
  const cases: [string, unknown, string][] = [
    ['two_columns', { columns: [{ title: 'a', body: 'b' }, { title: 'c', body: 'd', link: { url: 'https://x.example' } }] }, 'blocks[2].props.columns[1].link.label'],
    ['two_columns', { columns: [{ title: 'a', body: 'b' }] }, 'blocks[2].props.columns'],
    ['button', { link: { url: 'javascript:alert(1)', label: 'x' }, background: '#000', text_colour: '#fff', full_width: false }, 'blocks[2].props.link.url'],
    ['divider', { colour: 'red', thickness: 1 }, 'blocks[2].props.colour'],
    ['divider', { colour: '#ff0000', thickness: 1.5 }, 'blocks[2].props.thickness'],
    ['divider', { colour: '#ff0000', thickness: 1, extra: true }, 'blocks[2].props.extra'],
    ['image', { image: { url: 'https://x.example/a.png', alt: 'a', width: 9000 } }, 'blocks[2].props.image.width'],
    ['heading', { text: 42 }, 'blocks[2].props.text'],
    ['button', { link: { url: 'https://x.example', label: 'Go' }, background: '#000', text_colour: '#fff', full_width: 'yes' }, 'blocks[2].props.full_width'],
  ];
  it.each(cases)('%s: %j fails naming %s', (component, props, field) => {
    const err = appError(() =>
      composeEmail({ layout: brandLayout, blocks: [{ component: 'heading' }, { component: 'divider' }, { component, props }], components }),
    );
    expect(err.code).toBe('request.invalid');
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
  });
});

describe('props: copy may hold per-person Liquid, and never becomes markup', () => {
  it('renders Liquid in text, rich text and links for the person, escaping the person\'s data', async () => {
    const evil = buildRenderData({ person: { id: 'p-2', externalId: 'u-2', email: 'eve@example.com', attributes: { first_name: '<i>Eve</i>', vip: true } } });
    const mjml = composeEmail({
      layout: brandLayout, components,
      blocks: [
        { component: 'heading', props: { text: 'Hi {{ customer.first_name | default: "there" }} <3', colour: '#000000' } },
        { component: 'paragraph', props: { body: '<p>{% if customer.vip %}<b>VIP</b>{% endif %} {{ customer.email }}</p>' } },
        { component: 'button', props: { link: { url: 'https://shop.example/?u={{ customer.id }}', label: 'Shop, {{ customer.first_name }}' } } },
      ],
    });
    const out = await renderer.render({ key: `compose-test:${keys++}`, mjml, subject: 'Hi', data: evil });
    expect(out.html).toContain('Hi &lt;i&gt;Eve&lt;/i&gt; &lt;3');
    expect(out.html).toContain('<b>VIP</b> eve@example.com');
    expect(out.html).toContain('href="https://shop.example/?u=u-2"');
    expect(out.html).toContain('Shop, &lt;i&gt;Eve&lt;/i&gt;');
    expect(out.html).not.toContain('<i>Eve</i>');
    expect(out.text).toContain('Hi <i>Eve</i> <3');
  });

  it('keeps an unclosed {{ as text and refuses Liquid that mixes quote kinds', async () => {
    const out = await renderBlocks([{ component: 'heading', props: { text: 'Braces {{ here', colour: '#000000' } }]);
    expect(out.html).toContain('Braces {{ here');
    const err = appError(() => composeEmail({
      layout: brandLayout, components,
      blocks: [{ component: 'heading', props: { text: `{{ x | default: "it's" }}`, colour: '#000000' } }],
    }));
    expect(err.field).toBe('blocks[0].props.text');
  });

  it('escapes markup in text props and strips unsafe markup from rich text', async () => {
    const out = await renderBlocks([
      { component: 'heading', props: { text: '<script>alert(1)</script>', colour: '#000000' } },
      {
        component: 'paragraph',
        props: { body: '<p onclick="x()">Hi</p><script>alert(2)</script><a href="javascript:alert(3)">x</a><img src=x onerror=alert(4)>' },
      },
      { component: 'image', props: { image: { url: 'https://x.example/a.png', alt: '"><script>alert(5)</script>', width: 100 } } },
    ]);
    expect(out.html).not.toMatch(/<script|<[^>]*\s(onclick|onerror)=|href="javascript:/i);
    expect(out.html).toContain(
      '<p style="margin: 0 0 12px 0;">Hi</p>&lt;script&gt;alert(2)&lt;/script&gt;<a style="color: #2454d6;">x</a>&lt;img src=x onerror=alert(4)&gt;',
    );
    expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.html).toContain('alt="&quot;&gt;&lt;script&gt;alert(5)&lt;/script&gt;"');
  });
});
