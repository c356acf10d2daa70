// The plain-text part. It is derived once per template version from the compiled HTML, with its
// Liquid still in it, and then rendered per person like the HTML. Options keep Liquid intact:
// no word wrapping (it could split a quoted string inside a tag) and no upper-casing of headings.
import { compile } from 'html-to-text';

const toText = compile({
  wordwrap: false,
  preserveNewlines: false,
  selectors: [
    { selector: 'a', options: { linkBrackets: ['[', ']'], hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: '.tandem-preheader', format: 'skip' },
  ],
});

/** HTML (possibly holding Liquid) to a plain-text template; links become `text [url]`. */
export function htmlToTextTemplate(html: string): string {
  return toText(html);
}

/** Tidy a rendered text part: Liquid tags that rendered nothing leave blank lines behind. */
export function tidyText(text: string): string {
  return text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}
