// Lint of a stored template version: its content and each translation, composed exactly as a send
// would compose it (blocks, layout, snippets), with the variables checked against the event catalog.
import type { Config } from '../../../config.ts';
import { AppError } from '../../../errors.ts';
import { lintTemplate, type KnownNames, type LintFinding } from '../lint/index.ts';
import type { Renderer } from '../render/index.ts';
import type { TemplateBody } from '../resources/index.ts';
import type { TemplateLoader, VersionChoice } from './loader.ts';
import { emailSource, localised, textParts } from './resolve.ts';

export interface TemplateLint {
  templateId: string;
  version: number;
  findings: Array<LintFinding & { locale: string | null }>;
  errors: number;
  warnings: number;
}

export function createTemplateLinter(deps: {
  loader: TemplateLoader; renderer: Renderer; knownNames: (workspaceId: string) => Promise<KnownNames | null>;
  config: Pick<Config, 'publicUrl'>;
}) {
  const hostedAssetPrefixes = [`${deps.config.publicUrl.replace(/\/+$/, '')}/assets/`];

  async function lintLocale(workspaceId: string, templateId: string, version: number, locale: string | null, known: KnownNames | null): Promise<LintFinding[]> {
    const s = await deps.loader.select(workspaceId, templateId, { version, mode: 'preview', locale });
    const base = { channel: s.body.channel, marketing: s.body.marketing, renderer: deps.renderer, known, hostedAssetPrefixes };
    if (s.body.channel !== 'email') return lintTemplate({ ...base, liquid: textParts(s.body, locale) });
    const email = localised(s.body as TemplateBody & { channel: 'email' }, locale);
    let source;
    try {
      source = { key: `lint/${s.key}`, ...emailSource(email, await deps.loader.dependencies(workspaceId, s)) };
    } catch (err) {
      // Block composition (props that fail their component's schema, a missing component).
      if (!(err instanceof AppError)) throw err;
      const field = typeof err.details['field'] === 'string' ? err.details['field'] : undefined;
      return [{ rule: 'template.invalid', severity: 'error', message: err.message, ...(field ? { field } : {}) }];
    }
    return lintTemplate({ ...base, email: source });
  }

  return {
    /** Findings for the version (default: the latest draft), for its own content and every translation. */
    async lint(workspaceId: string, templateId: string, version: VersionChoice = 'draft'): Promise<TemplateLint> {
      const first = await deps.loader.select(workspaceId, templateId, { version, mode: 'preview', locale: null });
      const known = await deps.knownNames(workspaceId);
      const findings: TemplateLint['findings'] = [];
      for (const locale of [null, ...Object.keys(first.body.translations ?? {})]) {
        try {
          for (const f of await lintLocale(workspaceId, templateId, first.version, locale, known)) findings.push({ ...f, locale });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const field = typeof err.details['field'] === 'string' ? err.details['field'] : undefined;
          findings.push({ rule: 'template.invalid', severity: 'error', message: err.message, locale, ...(field ? { field } : {}) });
        }
      }
      const errors = findings.filter((f) => f.severity === 'error').length;
      return { templateId: first.template.id, version: first.version, findings, errors, warnings: findings.length - errors };
    },
  };
}

export type TemplateLinter = ReturnType<typeof createTemplateLinter>;
