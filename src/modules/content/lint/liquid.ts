// Liquid rules: syntax (every part and every partial it reaches, not just the first error),
// unknown variables (liquidjs static analysis over the parsed templates, so comments, raw blocks
// and locals from assign/for are understood), and the unsubscribe link of marketing email.
import { analyzeSync, TokenKind, Tokenizer, type TagToken, type Template, type TopLevelToken } from 'liquidjs';
import { linkTags, type PartialMap } from '../render/index.ts';
// Same module (content): the linter parses with exactly the renderer's engine and error mapping.
 
import { createSafeLiquid } from '../render/liquid.ts';
 
import { toTemplateError } from '../render/errors.ts';
import type { RenderLimits } from '../render/index.ts';
import { isKnownPath, PERSON_FIELDS, type KnownNames } from './known.ts';
import type { LintFinding } from './types.ts';

export interface LiquidPart {
  /** 'body', 'subject', 'preheader', 'partials.<name>', 'sms.body' … */
  part: string;
  text: string;
}

const PARTIAL_TAGS = new Set(['render', 'include', 'layout']);
const COMMENT_OPEN = new Set(['comment', 'doc']);
const COMMENT_CLOSE = new Set(['endcomment', 'enddoc']);
const UNSUBSCRIBE_TAGS = new Set(
  Object.entries(linkTags).filter(([, key]) => key !== 'view_in_browser_url').map(([tag]) => tag),
);
const UNSUBSCRIBE_VARIABLES = new Set(['unsubscribe_url', 'preferences_url']);

function tokensOf(text: string): TopLevelToken[] {
  try {
    return new Tokenizer(text).readTopLevelTokens();
  } catch {
    return []; // The syntax rule reports it.
  }
}

/** Tags outside {% comment %} / {% doc %} blocks ({% raw %} is already one HTML token). */
function liveTags(text: string): TagToken[] {
  const out: TagToken[] = [];
  let depth = 0;
  for (const token of tokensOf(text)) {
    if (token.kind !== TokenKind.Tag) continue;
    const tag = token as TagToken;
    if (COMMENT_OPEN.has(tag.name)) depth++;
    else if (COMMENT_CLOSE.has(tag.name)) depth = Math.max(0, depth - 1);
    else if (depth === 0) out.push(tag);
  }
  return out;
}

interface PartialRef {
  name: string | undefined; // undefined: a name computed at render time
  line: number;
  column: number;
}

function partialRefs(text: string): PartialRef[] {
  return liveTags(text).filter((t) => PARTIAL_TAGS.has(t.name)).map((t) => {
    const [line = 0, column = 0] = t.getPosition();
    const literal = /^\s*(['"])([^'"]*)\1/.exec(t.args);
    return { name: literal ? literal[2] : undefined, line, column };
  });
}

export interface ReachedPartials {
  parts: LiquidPart[];
  missing: LintFinding[];
}

/**
 * The partials `roots` reach, directly or through other partials, as parts named 'partials.<name>'.
 * A name computed at render time could be any partial, so then every partial is included.
 */
export function reachablePartials(roots: readonly LiquidPart[], partials: PartialMap): ReachedPartials {
  const reached = new Set<string>();
  const missing: LintFinding[] = [];
  const queue = [...roots];
  let dynamic = false;
  for (let item = queue.shift(); item; item = queue.shift()) {
    for (const ref of partialRefs(item.text)) {
      if (ref.name === undefined) {
        dynamic = true;
        continue;
      }
      if (reached.has(ref.name)) continue;
      const body = partials.get(ref.name);
      if (body === undefined) {
        missing.push({
          rule: 'liquid.syntax', severity: 'error', part: item.part, line: ref.line, column: ref.column,
          message: `No snippet or component named "${ref.name.slice(0, 100)}" (${item.part}, line ${ref.line}).`,
        });
        continue;
      }
      reached.add(ref.name);
      queue.push({ part: `partials.${ref.name}`, text: body });
    }
  }
  if (dynamic) for (const name of partials.keys()) reached.add(name);
  const parts = [...reached].map((name) => ({ part: `partials.${name}`, text: partials.get(name) ?? '' }));
  return { parts, missing };
}

export interface ParsedPart extends LiquidPart {
  templates: Template[];
}

/** Parse every part with the renderer's engine; syntax errors become findings with positions. */
export function checkSyntax(parts: readonly LiquidPart[], partials: PartialMap, limits: RenderLimits): {
  parsed: ParsedPart[];
  findings: LintFinding[];
} {
  const engine = createSafeLiquid({ partials, limits });
  const parsed: ParsedPart[] = [];
  const findings: LintFinding[] = [];
  for (const p of parts) {
    try {
      parsed.push({ ...p, templates: engine.parse(p.text) });
    } catch (err) {
      const e = toTemplateError(err, p.part);
      const { line, column } = e.details as { line?: unknown; column?: unknown };
      findings.push({
        rule: 'liquid.syntax', severity: 'error', part: p.part, message: e.message,
        ...(typeof line === 'number' ? { line } : {}), ...(typeof column === 'number' ? { column } : {}),
      });
    }
  }
  return { parsed, findings };
}

/** A marketing email needs an unsubscribe or preference-centre link somewhere. */
export function hasUnsubscribeLink(parts: readonly ParsedPart[]): boolean {
  for (const p of parts) {
    if (liveTags(p.text).some((t) => UNSUBSCRIBE_TAGS.has(t.name))) return true;
    const globals = analyzeSync(p.templates, { partials: false }).globals;
    for (const v of globals['message'] ?? []) {
      const key = v.segments[1];
      if (typeof key === 'string' && UNSUBSCRIBE_VARIABLES.has(key)) return true;
    }
  }
  return false;
}

function stringPath(segments: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (typeof s !== 'string') break; // an index or a computed key: the rest is data, not a name
    out.push(s);
  }
  return out;
}

/** `customer.*`, `person.*` and `event.*` names the catalog has never seen. */
export function unknownVariables(parts: readonly ParsedPart[], known: KnownNames): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const p of parts) {
    const globals = analyzeSync(p.templates, { partials: false }).globals;
    const reported = new Set<string>();
    const check = (root: string, path: string[], names: ReadonlyMap<string, string>, what: string, line: number, column: number) => {
      if (path.length === 0 || isKnownPath(names, path)) return;
      const name = `${root}.${path.join('.')}`;
      if (reported.has(name)) return;
      reported.add(name);
      findings.push({
        rule: 'variable.unknown', severity: 'warning', part: p.part, line, column,
        message: `${name} is not ${what} (${p.part}, line ${line}).`,
      });
    };
    for (const root of ['customer', 'person', 'event'] as const) {
      for (const v of globals[root] ?? []) {
        const path = stringPath(v.segments.slice(1));
        const { row: line, col: column } = v.location;
        if (root === 'customer') check(root, path, known.attributes, 'an attribute seen in the catalog', line, column);
        else if (root === 'event') check(root, path, known.eventProperties, 'a property of any event in the catalog', line, column);
        else if (path[0] === 'attributes') {
          check('person.attributes', path.slice(1), known.attributes, 'an attribute seen in the catalog', line, column);
        } else if (path[0] !== undefined && !PERSON_FIELDS.includes(path[0])) {
          check(root, path.slice(0, 1), new Map(), `a field of person (${PERSON_FIELDS.join(', ')})`, line, column);
        }
      }
    }
  }
  return findings;
}
