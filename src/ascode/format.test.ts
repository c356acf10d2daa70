import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseYaml, sameBody, toResource, toYaml, type ResourceDoc } from './format.ts';

/** What apply reads back from what pull wrote (no !file involved). */
function readBack(doc: ResourceDoc, text: string) {
  const parsed = parseYaml('f.yaml', text);
  expect(parsed.problems).toEqual([]);
  return toResource('f.yaml', doc.kind, doc.name, parsed.value as Record<string, unknown>);
}

describe('resource file format', () => {
  it('writes name, status, then the body in schema order, multi-line strings as literal blocks', () => {
    const text = toYaml({
      kind: 'template', name: 'welcome', status: 'published',
      // Key order as jsonb would hand it back: not the schema's.
      body: {
        email: { blocks: [{ props: { title: 'Hi' }, component: 'hero' }], subject: 'Welcome, {{ customer.first_name }}', layout: 'brand' },
        topic: 'news', channel: 'email', marketing: true,
      },
    });
    expect(text).toBe([
      'name: welcome',
      'status: published',
      'channel: email',
      'marketing: true',
      'topic: news',
      'email:',
      '  subject: Welcome, {{ customer.first_name }}',
      '  layout: brand',
      '  blocks:',
      '    - component: hero',
      '      props:',
      '        title: Hi',
      '',
    ].join('\n'));
    const layout = toYaml({ kind: 'layout', name: 'brand', status: 'draft', body: { mjml: '<mjml>\n  <mj-body>{{ content }}</mj-body>\n</mjml>\n' } });
    expect(layout).toBe('name: brand\nstatus: draft\nmjml: |\n  <mjml>\n    <mj-body>{{ content }}</mj-body>\n  </mjml>\n');
  });

  it('reads back exactly what it wrote, for any strings and prop values', () => {
    const text = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !s.includes('\u0000'));
    const json = fc.jsonValue({ maxDepth: 2 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
    fc.assert(fc.property(
      text, fc.dictionary(text, json, { maxKeys: 4 }), fc.constantFrom<'published' | 'draft'>('published', 'draft'),
      (mjml, defaults, status) => {
        const doc: ResourceDoc = { kind: 'component', name: 'c', status, body: { mjml, props: { title: { type: 'text' } }, defaults } };
        const back = readBack(doc, toYaml(doc));
        expect(back.problems).toEqual([]);
        expect(back.doc?.status).toBe(status);
        // JSON equality: what the server would store (-0 and 0 are one number in JSON).
        expect(JSON.parse(JSON.stringify(back.doc?.body))).toEqual(JSON.parse(JSON.stringify(doc.body)));
        expect(sameBody('component', back.doc?.body, doc.body)).toBe(true);
      },
    ), { numRuns: 300 });
  });

  it('keeps a prop default named "__proto__" (found by the property above; zod parsing used to drop it)', () => {
    const defaults = JSON.parse('{"__proto__": {"polluted": true}, "title": "Hi"}') as Record<string, unknown>;
    const doc: ResourceDoc = { kind: 'component', name: 'c', status: 'draft', body: { mjml: '<mj-text>{{ props.title }}</mj-text>', props: { title: { type: 'text' } }, defaults } };
    const text = toYaml(doc);
    expect(text).toBe('name: c\nstatus: draft\nmjml: <mj-text>{{ props.title }}</mj-text>\nprops:\n  title:\n    type: text\ndefaults:\n  __proto__:\n    polluted: true\n  title: Hi\n');
    const back = readBack(doc, text);
    expect(back.problems).toEqual([]);
    const backDefaults = back.doc?.body.defaults as Record<string, unknown>;
    expect(Object.keys(backDefaults)).toEqual(['__proto__', 'title']);
    expect(Object.getOwnPropertyDescriptor(backDefaults, '__proto__')?.value).toEqual({ polluted: true });
    // An own key, never the prototype: nothing is polluted on the way through.
    expect(Object.getPrototypeOf(backDefaults)).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(sameBody('component', back.doc?.body, doc.body)).toBe(true);
    expect(sameBody('component', back.doc?.body, { ...doc.body, defaults: { title: 'Hi' } })).toBe(false);
  });

  it('names the file and the field of every problem', () => {
    const parse = (text: string) => toResource('templates/welcome.yaml', 'template', 'welcome', parseYaml('templates/welcome.yaml', text).value as Record<string, unknown>);
    const bad = parse('name: hello\nstatus: live\nchannel: email\nmarketing: false\nemail:\n  layout: brand\n  blocks:\n    - props: {}\ncolour: red\n');
    expect(bad.doc).toBeUndefined();
    expect(bad.problems.map((p) => `${p.file}: ${p.field}`)).toEqual(expect.arrayContaining([
      'templates/welcome.yaml: name', 'templates/welcome.yaml: status', 'templates/welcome.yaml: email.subject',
      'templates/welcome.yaml: email.blocks[0].component', 'templates/welcome.yaml: colour',
    ]));
    expect(bad.problems.find((p) => p.field === 'name')?.message).toMatch(/must equal the file name "welcome"/);
    expect(bad.problems.find((p) => p.field === 'colour')?.message).toBe('unknown field');

    const missingChannelBody = parse('name: welcome\nstatus: draft\nchannel: sms\nmarketing: false\n');
    expect(missingChannelBody.problems).toEqual([{ file: 'templates/welcome.yaml', field: 'sms', message: 'required for channel "sms"' }]);

    const syntax = parseYaml('layouts/a.yaml', 'name: a\n  mjml: : x\n');
    expect(syntax.problems[0]).toMatchObject({ file: 'layouts/a.yaml', field: '', message: expect.stringMatching(/line \d+, column \d+$/) as unknown });
    expect(parseYaml('layouts/a.yaml', 'name: a\nmjml: !include x\n').problems[0]?.message).toMatch(/Unresolved tag: !include/);
    expect(parseYaml('layouts/a.yaml', '- a\n- b\n').problems[0]?.message).toMatch(/must be a YAML mapping/);
    expect(parseYaml('layouts/a.yaml', 'name: a\nname: b\n').problems[0]?.message).toMatch(/unique/i);
  });

  it('compares bodies after normalising: key order and schema defaults do not count', () => {
    const a = { channel: 'email', marketing: false, email: { subject: 'S', blocks: [{ component: 'x' }] } };
    const b = { email: { blocks: [{ props: {}, component: 'x' }], subject: 'S' }, marketing: false, channel: 'email' };
    expect(sameBody('template', a, b)).toBe(true);
    expect(sameBody('template', a, { ...b, topic: 'news' })).toBe(false);
    expect(sameBody('template', a, { ...b, email: { ...b.email, blocks: [{ component: 'x', props: { n: 1 } }] } })).toBe(false);
  });
});
