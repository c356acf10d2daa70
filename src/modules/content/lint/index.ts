// Template lint: stable rule ids, errors block publishing, warnings do not. Pure apart from the
// Renderer's compile (MJML), which it shares with sending, so a clean lint means a clean compile.
import { AppError } from '../../../errors.ts';
import type { PartialMap, TemplateSource } from '../render/index.ts';
import { checkSyntax, hasUnsubscribeLink, reachablePartials, unknownVariables, type LiquidPart } from './liquid.ts';
import { htmlFindings, lineOfText } from './rules-html.ts';
import type { LintFinding, LintInput } from './types.ts';

export { buildKnownNames, isKnownPath, BUILTIN_ATTRIBUTES, type KnownNames } from './known.ts';
export { scanHtml, isHosted, isLiquidValued, isNonWebLink, type HtmlUrl, type UrlKind } from './html.ts';
export { GMAIL_CLIP_BYTES } from './rules-html.ts';
export { LINT_RULES, type LintChannel, type LintFinding, type LintInput, type LintRule } from './types.ts';

function toPartialMap(partials: TemplateSource['partials']): PartialMap {
  if (!partials) return new Map();
  if (partials instanceof Map) return partials as PartialMap;
  return new Map(Object.entries(partials as Record<string, string>));
}

const EMAIL_PARTS = new Set(['body', 'subject', 'preheader']);

export async function lintTemplate(input: LintInput): Promise<LintFinding[]> {
  const email = input.channel === 'email' ? input.email : undefined;
  const partials = toPartialMap(email?.partials);
  const body = email ? (email.mjml ?? email.html) : undefined;

  const emailRoots: LiquidPart[] = [];
  if (email && body !== undefined) {
    emailRoots.push({ part: 'body', text: body });
    if (email.subject !== undefined) emailRoots.push({ part: 'subject', text: email.subject });
    if (email.preheader !== undefined) emailRoots.push({ part: 'preheader', text: email.preheader });
  }
  const fieldRoots: LiquidPart[] = Object.entries(input.liquid ?? {}).map(([part, text]) => ({ part, text }));
  const emailReach = reachablePartials(emailRoots, partials);
  const fieldReach = reachablePartials(fieldRoots, partials);
  const seen = new Set(emailReach.parts.map((p) => p.part));
  const parts = [...emailRoots, ...fieldRoots, ...emailReach.parts, ...fieldReach.parts.filter((p) => !seen.has(p.part))];

  const findings: LintFinding[] = [];
  const syntax = checkSyntax(parts, partials, input.renderer.limits);
  findings.push(...syntax.findings, ...emailReach.missing, ...fieldReach.missing);
  if (input.known) findings.push(...unknownVariables(syntax.parsed, input.known));

  if (!email || body === undefined) return findings;

  if (input.marketing) {
    const emailParsed = syntax.parsed.filter((p) => EMAIL_PARTS.has(p.part) || emailReach.parts.some((r) => r.part === p.part));
    // A part that does not parse is already an error; judging its links too would only add noise.
    const allParsed = emailParsed.length === emailRoots.length + emailReach.parts.length;
    if (allParsed && !hasUnsubscribeLink(emailParsed)) {
      findings.push({
        rule: 'unsubscribe.missing', severity: 'error', part: 'body',
        message: 'A marketing email needs an unsubscribe link: {% unsubscribe_url %} (or {% manage_subscription_preferences_url %}).',
      });
    }
  }

  // The compile parses body, preheader and subject again and would stop at the first error.
  if (syntax.findings.some((f) => f.part !== undefined && EMAIL_PARTS.has(f.part))) return findings;
  let compiled;
  try {
    compiled = await input.renderer.compile(email);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const rule = err.code === 'template.mjml_invalid' ? 'mjml.invalid' : err.code === 'template.syntax' ? 'liquid.syntax' : 'template.invalid';
    const part = typeof err.details['part'] === 'string' ? err.details['part'] : 'body';
    findings.push({ rule, severity: 'error', part, message: err.message });
    return findings;
  }
  for (const w of compiled.warnings) {
    findings.push({ rule: 'mjml.invalid', severity: 'warning', part: 'body', message: w.message, ...(w.line === undefined ? {} : { line: w.line }) });
  }
  const codeMode = email.mjml === undefined;
  findings.push(...htmlFindings({
    html: compiled.html,
    hostedAssetPrefixes: input.hostedAssetPrefixes,
    lineOf: (url, htmlLine) => (codeMode ? htmlLine : lineOfText(body, url)),
  }));
  return findings;
}
