import fc from 'fast-check';
import { Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { resolveUtm, rewriteHtml, withUtm } from './rewrite.ts';

/** Every <a href> and <img src> as a browser's parser would read them. */
function attrs(html: string): Array<{ tag: string; attribs: Record<string, string> }> {
  const out: Array<{ tag: string; attribs: Record<string, string> }> = [];
  new Parser({ onopentag: (tag, attribs) => out.push({ tag, attribs }) }, { decodeEntities: true }).end(html);
  return out;
}
const hrefs = (html: string) => attrs(html).filter((a) => a.tag === 'a').map((a) => a.attribs['href']);

describe('rewriteHtml', () => {
  it('offers only http(s) links, decoded and normalised, and rewrites exactly their href', () => {
    const html = '<html><body><p><a class="x" href="https://a.example/?a=1&amp;b=2">A</a> '
      + '<A HREF=HTTP://B.example/x title="keep">B</A> <a href="mailto:x@example.com">m</a> <a href="tel:+1555">t</a> '
      + '<a href="#top">h</a> <a href="/relative">r</a> <a href="javascript:alert(1)">j</a> <a href>e</a> '
      + '<a title=\'href=https://no.example\' href = " https://c.example/y ">C</a></p></body></html>';
    const seen: string[] = [];
    const out = rewriteHtml(html, { link: (url) => (seen.push(url), `https://t.example/c/${seen.length - 1}`) });
    expect(seen).toEqual(['https://a.example/?a=1&b=2', 'http://b.example/x', 'https://c.example/y']);
    expect(hrefs(out)).toEqual(['https://t.example/c/0', 'https://t.example/c/1', 'mailto:x@example.com', 'tel:+1555', '#top', '/relative',
      'javascript:alert(1)', '', 'https://t.example/c/2']);
    // Everything else is byte for byte as it was.
    expect(out).toContain('<a class="x" href="https://t.example/c/0">A</a>');
    expect(out).toContain(' title="keep">B</A>');
    expect(out).toContain('<a title=\'href=https://no.example\' href="https://t.example/c/2">C</a>');
  });

  it('leaves a link when the callback answers undefined, and drops a second href in one tag', () => {
    const out = rewriteHtml('<a href="https://a.example/" href="https://evil.example/">x</a><a href="https://b.example/">y</a>',
      { link: (url) => (url.startsWith('https://b.') ? undefined : 'https://t.example/c/0') });
    expect(out).toBe('<a href="https://t.example/c/0" >x</a><a href="https://b.example/">y</a>');
  });

  it('ignores hrefs of other elements, text, comments, styles and scripts', () => {
    const html = '<link href="https://css.example/a.css"><base href="https://base.example/"><style>a[href="https://s.example"]{}</style>'
      + '<!-- <a href="https://comment.example/">c</a> --><p>see https://text.example/</p>';
    const seen: string[] = [];
    expect(rewriteHtml(html, { link: (url) => (seen.push(url), 'x') })).toBe(html);
    expect(seen).toEqual([]);
  });

  it('puts the pixel just before </body>, or at the end without one', () => {
    const pixel = '<img src="https://t.example/o/tok.gif" width="1" height="1" alt="" style="display:none">';
    expect(rewriteHtml('<html><body><p>Hi</p></BODY></html>', { pixelUrl: 'https://t.example/o/tok.gif' }))
      .toBe(`<html><body><p>Hi</p>${pixel}</BODY></html>`);
    expect(rewriteHtml('<p>Hi</p>', { pixelUrl: 'https://t.example/o/tok.gif' })).toBe(`<p>Hi</p>${pixel}`);
    // A "</body>" inside a comment or a style is not the body's end.
    expect(rewriteHtml('<body><!-- </body> --><p>x</p></body>', { pixelUrl: 'https://t.example/o/tok.gif' }))
      .toBe(`<body><!-- </body> --><p>x</p>${pixel}</body>`);
  });

  it('writes any href the callback answers as one attribute value (property)', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (before, value) => {
      const html = `<p>${before.replace(/[<>&]/g, '')}</p><a href="https://a.example/">x</a>`;
      const out = rewriteHtml(html, { link: () => value });
      const a = attrs(out).filter((e) => e.tag === 'a');
      expect(a).toHaveLength(1);
      expect(a[0]?.attribs).toEqual({ href: value });
    }));
  });
});

describe('UTM tags', () => {
  it('appends the missing parameters, percent-encoded, before the fragment', () => {
    const utm = { source: 'tandem', medium: 'email', campaign: 'Spring sale & more' };
    expect(withUtm('https://a.example/p?x=1#frag', utm))
      .toBe('https://a.example/p?x=1&utm_source=tandem&utm_medium=email&utm_campaign=Spring%20sale%20%26%20more#frag');
    expect(withUtm('https://a.example/', utm)).toBe('https://a.example/?utm_source=tandem&utm_medium=email&utm_campaign=Spring%20sale%20%26%20more');
    // Parameters already on the link win.
    expect(withUtm('https://a.example/?utm_source=site&a=%20b', utm))
      .toBe('https://a.example/?utm_source=site&a=%20b&utm_medium=email&utm_campaign=Spring%20sale%20%26%20more');
  });

  it('keeps hostile values inside the query (RELIABILITY 13)', () => {
    const hostile = '"><script>alert(1)</script>\'&x=<img src=x onerror=alert(1)>#';
    const url = withUtm('https://a.example/p', { source: hostile });
    expect(url).not.toMatch(/["'<> ]/);
    expect(new URL(url).searchParams.get('utm_source')).toBe(hostile);
    expect(new URL(url).hash).toBe('');
  });

  it('fills {{template}} and defaults the campaign to the template name', () => {
    expect(resolveUtm({ source: 'tandem' }, { template: 'welcome' })).toEqual({ source: 'tandem', campaign: 'welcome' });
    expect(resolveUtm({ campaign: 'q1-{{ template }}' }, { template: 'news' })).toEqual({ campaign: 'q1-news' });
    expect(resolveUtm({ source: 'tandem' }, { template: '' })).toEqual({ source: 'tandem' });
  });
});
