import { describe, expect, it } from 'vitest';
import type { EventType } from '../../catalog/index.ts';
import { composeEmail } from '../compose.ts';
import { Renderer, type TemplateSource } from '../render/index.ts';
import { brandLayout, starterComponents } from '../starter/index.ts';
import { buildKnownNames, lintTemplate, type LintFinding, type LintInput } from './index.ts';

const renderer = new Renderer();
const HOSTED = 'https://tandem.example/assets/';
let keys = 0;

const eventType = (type: EventType['type'], name: string, paths: Record<string, string>): EventType => ({
  type, name, firstSeen: new Date(), lastSeen: new Date(), count24h: 1, count7d: 1, sample: {}, typeChanges: [],
  properties: Object.entries(paths).map(([path, t]) => ({ path, type: t, seenTypes: [t], firstSeen: new Date(), lastSeen: new Date() })),
});
const known = buildKnownNames([
  eventType('identify', 'identify', { first_name: 'string', plan: 'string', address: 'object', 'address.city': 'string', tags: 'array' }),
  eventType('track', 'Order Placed', { total: 'number', items: 'array' }),
]);

function email(source: Omit<TemplateSource, 'key'>, extra: Partial<LintInput> = {}): Promise<LintFinding[]> {
  return lintTemplate({
    channel: 'email', marketing: false, email: { key: `lint-test:${keys++}`, ...source },
    renderer, known, hostedAssetPrefixes: [HOSTED], ...extra,
  });
}
const html = (inner: string) => `<html><body>\n${inner}\n</body></html>`;
const mjml = (inner: string) => `<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n${inner}\n</mj-column>\n</mj-section>\n</mj-body>\n</mjml>`;
const rules = (findings: LintFinding[]) => findings.map((f) => f.rule);
const only = (findings: LintFinding[], rule: string) => findings.filter((f) => f.rule === rule);

describe('liquid.syntax', () => {
  it('reports an error in each part with its line and column, partials included', async () => {
    const findings = await email({
      html: html('<p>Hi</p>\n<p>{% if customer.first_name %}open</p>'),
      subject: 'Hello {{ customer.first_name | shout }}',
      preheader: 'fine',
      partials: { footer: 'ok {{ oops', unused: '{% broken' },
    }, { liquid: { 'email.fromName': '{% render "footer" %}' } });
    const syntax = only(findings, 'liquid.syntax');
    expect(syntax).toEqual(expect.arrayContaining([
      expect.objectContaining({ severity: 'error', part: 'body', line: 3, column: 4 }),
      expect.objectContaining({ severity: 'error', part: 'subject', line: 1 }),
      expect.objectContaining({ severity: 'error', part: 'partials.footer', line: 1 }),
    ]));
    expect(syntax).toHaveLength(3); // the partial nothing renders is not linted
    expect(syntax.find((f) => f.part === 'subject')?.message).toMatch(/shout/);
  });

  it('reports a partial that does not exist, where it is rendered', async () => {
    const findings = await email({ html: html('<p>x</p>\n{% render "missing" %}'), subject: 's' });
    expect(only(findings, 'liquid.syntax')).toEqual([
      expect.objectContaining({ part: 'body', line: 3, message: expect.stringContaining('"missing"') as unknown }),
    ]);
  });

  it('checks the Liquid of other channels by field name', async () => {
    const findings = await lintTemplate({
      channel: 'sms', marketing: false, renderer, known, hostedAssetPrefixes: [],
      liquid: { 'sms.body': 'Hi {{ customer.first_name }}\n{% for x in y %}' },
    });
    expect(findings).toEqual([expect.objectContaining({ rule: 'liquid.syntax', part: 'sms.body', line: 2 })]);
  });

  it('finds nothing in valid Liquid', async () => {
    const findings = await email({ html: html('{% if customer.plan == "pro" %}<p>{{ customer.first_name | capitalize }}</p>{% endif %}'), subject: 'Hi' });
    expect(findings).toEqual([]);
  });
});

describe('mjml.invalid', () => {
  it('reports MJML validation problems as warnings with the line', async () => {
    const findings = await email({ mjml: mjml('<mj-text>ok</mj-text>\n<mj-text colour="red">bad attribute</mj-text>'), subject: 's' });
    expect(only(findings, 'mjml.invalid')).toEqual([
      expect.objectContaining({ severity: 'warning', part: 'body', line: 6, message: expect.stringContaining('colour') as unknown }),
    ]);
  });

  it('is an error when MJML cannot be parsed at all', async () => {
    const findings = await email({ mjml: '<mj-text>no mjml root</mj-text>', subject: 's' });
    expect(findings).toEqual([expect.objectContaining({ rule: 'mjml.invalid', severity: 'error', part: 'body' })]);
  });

  it('is quiet for valid MJML', async () => {
    expect(only(await email({ mjml: mjml('<mj-text color="red">fine</mj-text>'), subject: 's' }), 'mjml.invalid')).toEqual([]);
  });
});

describe('unsubscribe.missing', () => {
  const marketing = { marketing: true };
  it('is an error for a marketing email without an unsubscribe link', async () => {
    const findings = await email({ html: html('<a href="https://example.com">Shop</a>'), subject: 's' }, marketing);
    expect(only(findings, 'unsubscribe.missing')).toEqual([expect.objectContaining({ severity: 'error' })]);
  });

  it('does not count a link tag inside a comment', async () => {
    const findings = await email({ html: html('{% comment %}<a href="{% unsubscribe_url %}">x</a>{% endcomment %}'), subject: 's' }, marketing);
    expect(rules(findings)).toContain('unsubscribe.missing');
  });

  it('accepts the unsubscribe tag, the preference-centre tags and message.unsubscribe_url, in partials too', async () => {
    for (const source of [
      { html: html('<a href="{% unsubscribe_url %}">Unsubscribe</a>') },
      { html: html('<a href="{% manage_subscription_preferences_url %}">Preferences</a>') },
      { html: html('<a href="{% preferences_url %}">Preferences</a>') },
      { html: html('<a href="{{ message.unsubscribe_url }}">Unsubscribe</a>') },
      { html: html('{% render "footer" %}'), partials: { footer: '{% include "links" %}', links: '<a href="{% unsubscribe_url %}">u</a>' } },
    ]) {
      expect(rules(await email({ ...source, subject: 's' }, marketing))).not.toContain('unsubscribe.missing');
    }
  });

  it('does not apply to transactional email', async () => {
    expect(rules(await email({ html: html('<p>Your receipt</p>'), subject: 's' }))).not.toContain('unsubscribe.missing');
  });
});

describe('image.external and image.alt_missing', () => {
  it('warns once per outside image and per image without alt, with the source line', async () => {
    const findings = await email({
      html: html([
        '<img src="https://cdn.example.com/a.png" alt="A">',
        `<img src="${HOSTED}ws_1/b.png">`,
        '<img src="https://cdn.example.com/a.png" alt=" ">',
        '<img src="{{ event.image_url }}" alt="Product">',
        '<table background="https://cdn.example.com/bg.jpg"><tr><td style="background:url(\'https://cdn.example.com/bg2.jpg\')">x</td></tr></table>',
      ].join('\n')),
      subject: 's',
    });
    expect(only(findings, 'image.external')).toEqual([
      expect.objectContaining({ severity: 'warning', url: 'https://cdn.example.com/a.png', line: 2 }),
      expect.objectContaining({ url: 'https://cdn.example.com/bg.jpg', line: 6 }),
      expect.objectContaining({ url: 'https://cdn.example.com/bg2.jpg', line: 6 }),
    ]);
    expect(only(findings, 'image.alt_missing')).toEqual([
      expect.objectContaining({ severity: 'warning', url: `${HOSTED}ws_1/b.png`, line: 3 }),
      expect.objectContaining({ url: 'https://cdn.example.com/a.png', line: 4 }),
    ]);
  });

  it('reads mj-image (its alt becomes the img alt) and points at the MJML line', async () => {
    const findings = await email({
      mjml: mjml(`<mj-image src="${HOSTED}logo.png" alt="Logo" />\n<mj-image src="https://cdn.example.com/hero.png" />`),
      subject: 's',
    });
    expect(only(findings, 'image.external')).toEqual([expect.objectContaining({ url: 'https://cdn.example.com/hero.png', line: 6 })]);
    expect(only(findings, 'image.alt_missing')).toEqual([expect.objectContaining({ url: 'https://cdn.example.com/hero.png', line: 6 })]);
  });
});

describe('link.insecure', () => {
  it('warns about http:// links only', async () => {
    const findings = await email({
      html: html([
        '<a href="http://example.com/a">a</a>',
        '<a href="https://example.com/b">b</a> <a href="mailto:x@example.com">m</a> <a href="tel:+1">t</a> <a href="#top">#</a>',
        '<a href="{% view_in_browser_url %}">v</a> <a href="{{ event.url }}">e</a> <a href="HTTP://EXAMPLE.COM/c">c</a>',
      ].join('\n')),
      subject: 's',
    });
    expect(only(findings, 'link.insecure')).toEqual([
      expect.objectContaining({ severity: 'warning', url: 'http://example.com/a', line: 2 }),
      expect.objectContaining({ url: 'HTTP://EXAMPLE.COM/c', line: 4 }),
    ]);
  });
});

describe('link.unsafe_scheme and link.unguarded', () => {
  it('warns about a literal script scheme and about links whose scheme comes from data', async () => {
    const findings = await email({
      html: html([
        '<a href="javascript:alert(1)">a</a> <a href="&#106;avascript:x">b</a> <a href="data:text/html,x">c</a>',
        '<a href="{{ customer.website }}">d</a> <a href="{{ event.url | default: \'#\' }}">e</a> <a href="java{{ x }}">f</a>',
        '<a href="https://{{ customer.domain }}/p">ok</a> <a href="/p/{{ event.id }}">ok</a> <a href="mailto:{{ customer.email }}">ok</a>',
        '<a href="{% view_in_browser_url %}">ok</a> <a href="{% unsubscribe_url %}">ok</a> <a href="https://example.com">ok</a>',
      ].join('\n')),
      subject: 's',
    });
    expect(only(findings, 'link.unsafe_scheme').map((f) => [f.severity, f.url, f.line])).toEqual([
      ['warning', 'javascript:alert(1)', 2], ['warning', 'javascript:x', 2], ['warning', 'data:text/html,x', 2],
    ]);
    expect(only(findings, 'link.unguarded').map((f) => [f.severity, f.url, f.line])).toEqual([
      ['warning', '{{ customer.website }}', 3], ['warning', "{{ event.url | default: '#' }}", 3], ['warning', 'java{{ x }}', 3],
    ]);
  });
});

describe('html.too_large', () => {
  it('warns above 102 KB and says the size', async () => {
    const big = await email({ html: html(`<p>${'x'.repeat(110 * 1024)}</p>`), subject: 's' });
    expect(only(big, 'html.too_large')).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/110\.\d KB/) as unknown }),
    ]);
    const small = await email({ html: html(`<p>${'x'.repeat(100 * 1024)}</p>`), subject: 's' });
    expect(rules(small)).not.toContain('html.too_large');
  });
});

describe('variable.unknown', () => {
  const source = {
    html: html([
      '<p>{{ customer.first_name }} {{ customer.frist_name }} {{ customer.address.city }} {{ customer.address.zip }}</p>',
      '<p>{{ customer.tags.first }} {{ customer.email }} {{ person.attributes.plan }} {{ person.attributes.nope }} {{ person.phone }} {{ person.shoe }}</p>',
      '<p>{{ event.total }} {{ event.totl }} {{ event.items[0].sku }} {{ trigger.anything }} {{ workspace.name }}</p>',
      '{% assign customer = "local" %}{{ customer.whatever }}',
    ].join('\n')),
    subject: 'Hi {{ customer.nickname }}',
  };

  it('warns about names the catalog never saw, with part, line and column', async () => {
    const findings = only(await email(source), 'variable.unknown');
    expect(findings.map((f) => [f.part, f.line, f.message.split(' ')[0]])).toEqual([
      ['body', 2, 'customer.frist_name'],
      ['body', 2, 'customer.address.zip'],
      ['body', 3, 'person.attributes.nope'],
      ['body', 3, 'person.shoe'],
      ['body', 4, 'event.totl'],
      ['subject', 1, 'customer.nickname'],
    ]);
    expect(findings[0]).toMatchObject({ severity: 'warning', column: 33 });
  });

  it('is skipped when the catalog is unknown', async () => {
    expect(only(await email(source, { known: null }), 'variable.unknown')).toEqual([]);
  });
});

describe('a starter-kit email', () => {
  it('composed from the brand layout and starter components has no errors', async () => {
    const components = new Map(starterComponents.map((c) => [c.name, c]));
    const composed = composeEmail({
      layout: brandLayout, components,
      blocks: ['logo_header', 'hero', 'paragraph', 'button', 'two_columns', 'product_card', 'divider', 'image'].map((component) => ({ component })),
    });
    const findings = await email({ mjml: composed, subject: 'News for {{ customer.first_name }}', preheader: 'This week' }, { marketing: true });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    // The kit's placeholder images live on placehold.co: outside images, warned about, never blocking.
    expect(new Set(rules(findings))).toEqual(new Set(['image.external']));
  });
});
