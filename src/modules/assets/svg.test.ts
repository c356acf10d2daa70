// SVG sanitizing: script, handlers, foreign content, outside references and CSS imports never survive;
// ordinary drawings come out drawing the same.
import { describe, expect, it } from 'vitest';
import { cleanCss, looksLikeSvg, sanitizeSvg, viewBoxSize } from './svg.ts';

const wrap = (inner: string, attrs = '') =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"${attrs}>${inner}</svg>`;

describe('sanitizeSvg', () => {
  it('removes every script vector in the corpus', () => {
    const corpus: Array<[string, string]> = [
      [wrap('<script>alert(1)</script>'), 'alert'],
      [wrap('<script xlink:href="https://evil.example/x.js"/>'), 'evil'],
      [wrap('<svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(1)</svg:script>'), 'alert'],
      [wrap('<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>'), 'alert'],
      [wrap('', ' onload="alert(1)"'), 'alert'],
      [wrap('<rect ONCLICK="alert(1)" width="1" height="1"/>'), 'alert'],
      [wrap('<foreignObject><iframe src="https://evil.example"/></foreignObject>'), 'evil'],
      [wrap('<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></body></foreignObject>'), 'onerror'],
      [wrap('<a href="javascript:alert(1)"><text>x</text></a>'), 'javascript'],
      [wrap('<a xlink:href="&#106;avascript:alert(1)"><text>x</text></a>'), 'avascript'],
      [wrap('<use href=" java\tscript:alert(1)"/>'), 'script:'],
      [wrap('<use xlink:href="https://evil.example/sprite.svg#icon"/>'), 'evil'],
      [wrap('<use x:href="https://evil.example/s.svg#i" xmlns:x="http://www.w3.org/1999/xlink"/>'), 'evil'],
      [wrap('<use href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#x"/>'), 'data:'],
      [wrap('<image href="https://evil.example/p.png"/>'), 'evil'],
      [wrap('<feImage href="https://evil.example/p.png"/>'), 'evil'],
      [wrap('<animate attributeName="href" to="javascript:alert(1)"/>'), 'javascript'],
      [wrap('<set attributeName="onmouseover" to="alert(1)"/>'), 'alert'],
      [wrap('<style>@import url(https://evil.example/x.css);</style>'), 'evil'],
      [wrap('<style>@import "https://evil.example/x.css";</style>'), 'evil'],
      [wrap('<style>@\\69mport "https://evil.example/x.css";</style>'), 'evil'],
      [wrap('<style>rect { background: url(https://evil.example/t.png) }</style>'), 'evil'],
      [wrap('<style>&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;</style>'), '<script'],
      [wrap('<style><![CDATA[</style><script>alert(1)</script>]]></style>'), '<script'],
      [wrap('<rect style="fill: url(https://evil.example/f)" width="1" height="1"/>'), 'evil'],
      [wrap('<rect fill="url(https://evil.example/f#g)" width="1" height="1"/>'), 'evil'],
      [wrap('<rect filter="url( \'https://evil.example/f#g\' )" width="1" height="1"/>'), 'evil'],
      ['<?xml-stylesheet href="https://evil.example/x.css"?>' + wrap(''), 'evil'],
      ['<!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + wrap('<text>&e;</text>'), 'ENTITY'],
      [wrap('<rect width="1" height="1" xml:base="https://evil.example/"/>'), 'evil'],
    ];
    for (const [input, marker] of corpus) {
      const out = sanitizeSvg(input);
      expect(out, input).toBeDefined();
      expect(out, input).not.toContain(marker);
      expect(out, input).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });

  it('keeps ordinary drawings: shapes, gradients, same-document references, classes and styles', () => {
    const input = wrap(
      '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>' +
      '<symbol id="s"><circle cx="1" cy="1" r="1"/></symbol></defs>' +
      '<style>.a { fill: url(#g); stroke: #000 }</style>' +
      '<g class="a" transform="translate(1 1)"><path d="M0 0L5 5" stroke-width="2"/><use xlink:href="#s"/><use href="#s" x="3"/></g>' +
      '<text x="1" y="9" font-family="Arial">Fish &amp; chips &lt;3</text>');
    const out = sanitizeSvg(input)!;
    for (const kept of ['viewBox="0 0 10 10"', '<linearGradient id="g">', '<symbol id="s">', 'xlink:href="#s"', 'href="#s" x="3"',
      'transform="translate(1 1)"', '.a { fill: url(#g); stroke: #000 }', 'Fish &amp; chips &lt;3', 'stroke-width="2"']) {
      expect(out).toContain(kept);
    }
  });

  it('adds the SVG namespace when the root has none, and gives up when no <svg> element is left', () => {
    expect(sanitizeSvg('<svg width="1" height="1"><rect/></svg>')).toBe('<svg width="1" height="1" xmlns="http://www.w3.org/2000/svg"><rect></rect></svg>');
    expect(sanitizeSvg('<script>alert(1)</script>')).toBeUndefined();
  });
});

describe('looksLikeSvg, viewBoxSize and cleanCss', () => {
  it('recognises SVG documents by their prolog and root element only', () => {
    const yes = ['<svg/>', '\uFEFF  <?xml version="1.0"?>\n<!-- c --><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n<svg xmlns="http://www.w3.org/2000/svg">'];
    const no = ['<html><svg/></html>', 'svg', '<svgfoo/>', '<SVG/>', 'text <svg/>'];
    for (const s of yes) expect(looksLikeSvg(Buffer.from(s)), s).toBeDefined();
    for (const s of no) expect(looksLikeSvg(Buffer.from(s)), s).toBeUndefined();
    expect(looksLikeSvg(Buffer.from([0x3c, 0x73, 0x76, 0x67, 0x20, 0xff, 0x3e]))).toBeUndefined(); // not UTF-8
    expect(looksLikeSvg(Buffer.from('<svg>\u0000</svg>'))).toBeUndefined();
  });

  it('reads the viewBox size', () => {
    expect(viewBoxSize('<svg viewBox="0 0 300 150.4">')).toEqual({ width: 300, height: 150 });
    expect(viewBoxSize('<svg viewBox="0,0,24,24">')).toEqual({ width: 24, height: 24 });
    expect(viewBoxSize('<svg>')).toBeUndefined();
  });

  it('drops imports and outside url()s from CSS, and CSS with escapes altogether', () => {
    expect(cleanCss('@import url(x.css); .a{fill:red}')).toBe(' .a{fill:red}');
    expect(cleanCss('.a{fill:url(#g);background:url("https://e.example/x")}')).toBe('.a{fill:url(#g);}');
    expect(cleanCss('.a{fill:\\72 ed}')).toBeUndefined();
    expect(cleanCss('.a{width:expression(alert(1))}')).toBeUndefined();
  });
});
