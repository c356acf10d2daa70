// MJML to HTML. Runs once per template version (the renderer caches the result); Liquid tags in
// the source pass through untouched and are rendered per person over the compiled HTML.
// mj-include is off (no file system), no .mjmlconfig is read, CSS is inlined by MJML (juice).
import type mjml2htmlFn from 'mjml';
import { AppError } from '../../../errors.ts';
import { lazy } from '../../../lazy.ts';

export interface RenderWarning {
  code: 'mjml.validation' | 'content.unpublished_dependency';
  message: string;
  line?: number;
  tag?: string;
}

export interface CompiledMjml {
  html: string;
  warnings: RenderWarning[];
}

const mjml = lazy(() => import('mjml').then((m) => m.default));

export async function compileMjml(source: string): Promise<CompiledMjml> {
  const mjml2html = await mjml();
  let result: Awaited<ReturnType<typeof mjml2htmlFn>>;
  try {
    result = await mjml2html(source, {
      validationLevel: 'soft',
      ignoreIncludes: true,
      useMjmlConfigOptions: false,
      keepComments: false,
      beautify: false,
      minify: false,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message.slice(0, 300) : 'MJML could not be parsed';
    throw new AppError('template.mjml_invalid', message, { part: 'body' });
  }
  const warnings: RenderWarning[] = result.errors.map((e) => ({
    code: 'mjml.validation',
    // Our own wording: MJML's formattedMessage names the process's working directory.
    message: `Line ${e.line} (${e.tagName}): ${e.message}`,
    line: e.line,
    tag: e.tagName,
  }));
  return { html: result.html, warnings };
}
