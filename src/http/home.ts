// `GET /`: until the web app exists, a small page for whoever opens the server in a browser: the docs
// (served read-only from docs/ at /docs/<name>.md), the OpenAPI document, health and metrics.
// No script and a CSP that allows none; every other unknown path stays a JSON 404.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { PUBLIC } from './openapi.ts';
import type { TandemApp } from './types.ts';

/** docs/ beside src/ (and beside dist/: the compiled file sits at the same depth). */
const DOCS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');
const DOC_NAME = /^[a-z0-9][a-z0-9-]*\.md$/;
const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The docs' file names (docs/*.md), read once; none when the folder is not shipped. */
let docNames: Promise<string[]> | undefined;
function docs(): Promise<string[]> {
  docNames ??= readdir(DOCS_DIR).then((names) => names.filter((n) => DOC_NAME.test(n)).sort(), () => []);
  return docNames;
}

function page(names: string[]): string {
  const link = (href: string, text: string, note = '') => `<li><a href="${href}">${text}</a>${note ? ` — ${note}` : ''}</li>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tandem</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.6rem;overflow-x:auto}</style>
</head><body>
<h1>Tandem is running</h1>
<p>Self-hosted customer messaging. The web app comes in a later release; today Tandem is used over its APIs and the <code>tandem</code> command.</p>
<h2>Start here</h2>
<pre>eval "$(node bin/tandem.js workspace create Acme --env)"   # a workspace and its keys: WK, SITE, TK, APP</pre>
<ul>
${link('/docs/README.md', 'README', 'the five-minute tour')}
${link('/api/openapi.json', 'OpenAPI document', 'every route, for a generated client')}
${link('/health/live', '/health/live', 'the process answers')}
${link('/health/ready', '/health/ready', 'the database answers')}
${link('/metrics', '/metrics', 'Prometheus metrics')}
</ul>
<h2>Documentation</h2>
<ul>
${names.map((n) => link(`/docs/${n}`, n.replace(/\.md$/, ''))).join('\n')}
</ul>
</body></html>
`;
}

export function registerHomePage(app: TandemApp): void {
  const docsTags = ['docs'];
  app.get('/', {
    schema: {
      tags: docsTags, security: PUBLIC, summary: 'A small page linking the docs, the OpenAPI document, health and metrics',
      produces: ['text/html'], response: { 200: z.string().describe('The page') },
    },
  }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', CSP);
    return page(await docs());
  });

  // The docs as Markdown text: only names listed in docs/, so no path reaches another file.
  app.get('/docs/:name', {
    schema: {
      tags: docsTags, security: PUBLIC, summary: 'One of the docs (README.md or a docs/*.md file) as Markdown text',
      params: z.object({ name: z.string().max(200) }),
      produces: ['text/markdown'], response: { 200: z.string().describe('The document') },
    },
  }, async (req, reply) => {
    const { name } = req.params;
    const file = name === 'README.md' ? path.join(DOCS_DIR, '..', 'README.md') : (await docs()).includes(name) ? path.join(DOCS_DIR, name) : undefined;
    const text = file === undefined ? undefined : await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) throw new AppError('route.not_found', `No document ${name}`);
    reply.header('content-type', 'text/markdown; charset=utf-8').header('x-content-type-options', 'nosniff')
      .header('content-security-policy', CSP);
    return text;
  });
}
