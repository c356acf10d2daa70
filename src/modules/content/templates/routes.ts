// Preview, test send, usage and component-change preview under /api/content.
import { z } from 'zod';
import { AppError } from '../../../errors.ts';
import type { TandemApp } from '../../../http/types.ts';
import { lintView, localeTag, type ContentResource } from '../resources/index.ts';
import type { TemplateLinter } from './lint.ts';
import type { PreviewInput, PreviewService } from './preview.ts';
import type { TemplateRenderService } from './service.ts';

const versionChoice = z.union([z.literal('draft'), z.literal('published'), z.number().int().min(1)])
  .describe('A version number, "draft" (the latest saved) or "published"');

const sampleObject = z.record(z.string().max(200), z.unknown());
const previewInput = z.object({
  version: versionChoice.optional().describe('Default: "draft"'),
  locale: localeTag.optional().describe('Force a translation; default: the person\'s locale, then the workspace\'s'),
  person: z.object({
    id: z.string().max(200).optional(), userId: z.string().max(500).optional(), email: z.string().max(320).optional(),
  }).strict().optional().describe('A real person: their attributes, and their latest track event unless eventId or data.event is given'),
  eventId: z.string().max(40).optional().describe('One of the person\'s events (its timeline id)'),
  data: z.object({ customer: sampleObject.optional(), event: sampleObject.optional(), trigger: sampleObject.optional() }).strict().optional()
    .describe('Sample JSON; with a person, customer is laid over their attributes'),
}).strict();

const warning = z.object({ code: z.string(), message: z.string(), line: z.number().int().optional(), tag: z.string().optional() });
const renderedView = z.object({
  templateId: z.string(), templateName: z.string(), version: z.number().int(), channel: z.string(),
  marketing: z.boolean(), topic: z.string().nullable(), locale: z.string().nullable().describe('The translation used; null = the template itself'),
  email: z.object({
    subject: z.string(), preheader: z.string().nullable(), fromName: z.string().nullable(), fromAddress: z.string().nullable(),
    replyTo: z.string().nullable(), html: z.string(), text: z.string(),
  }).optional(),
  sms: z.object({ body: z.string() }).optional(),
  webhook: z.object({ method: z.string(), url: z.string(), headers: z.record(z.string(), z.string()), body: z.string().nullable() }).optional(),
  in_app: z.object({
    title: z.string(), body: z.string(),
    buttons: z.array(z.object({ label: z.string(), url: z.string().nullable(), action: z.string().nullable() })),
  }).optional(),
  warnings: z.array(warning),
});

const previewView = renderedView.extend({
  person: z.object({ id: z.string() }).nullable().describe('The person previewed as; null for sample data'),
  event: z.object({ id: z.string(), name: z.string().nullable() }).nullable().describe('The event used, when taken from the person'),
});

const templateRef = z.object({ id: z.string(), name: z.string(), draftVersion: z.number().int(), publishedVersion: z.number().int().nullable() });
const outcome = z.union([
  z.object({ subject: z.string(), html: z.string() }),
  z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
]);

function refOut(r: ContentResource): z.infer<typeof templateRef> {
  return { id: r.id, name: r.name, draftVersion: r.draftVersion, publishedVersion: r.publishedVersion };
}

const idParams = z.object({ id: z.string().max(200) });
const byQuery = z.object({ by: z.enum(['id', 'name']).default('id').describe('Whether :id is the template\'s id or its name') });

export function registerTemplateRoutes(app: TandemApp, deps: { templates: TemplateRenderService; previews: PreviewService; linter: TemplateLinter }): void {
  const { templates, previews, linter } = deps;
  const tags = ['content'];
  const preHandler = app.auth.appKey;
  const config = { dialect: 'tandem' as const };
  // `?by=name` lets scripts and the README address a template by its name.
  const templateId = async (ws: string, id: string, by: 'id' | 'name') => {
    if (by === 'id') return id;
    const found = await previews.templateByName(ws, id);
    if (!found) throw new AppError('content.not_found', undefined, { field: 'id' });
    return found.id;
  };

  app.post('/api/content/templates/:id/preview', {
    preHandler, config,
    schema: {
      tags, summary: 'Render a template version for a real person or sample JSON: subject, HTML, text (or the channel\'s parts) and warnings',
      params: idParams, querystring: byQuery, body: previewInput.nullish(), response: { 200: previewView },
    },
  }, async (req) => {
    const id = await templateId(req.workspaceId, req.params.id, req.query.by);
    const p = await previews.preview(req.workspaceId, id, req.body ?? {});
    return { ...p.rendered, person: p.person, event: p.event };
  });

  app.get('/api/content/templates/:id/lint', {
    preHandler, config,
    schema: {
      tags, summary: 'Lint a template version and each of its translations (errors block publishing, warnings do not)',
      params: idParams,
      querystring: byQuery.extend({
        version: z.union([z.enum(['draft', 'published']), z.coerce.number().int().min(1)]).default('draft')
          .describe('A version number, "draft" or "published"'),
      }),
      response: { 200: lintView },
    },
  }, async (req) => linter.lint(req.workspaceId, await templateId(req.workspaceId, req.params.id, req.query.by), req.query.version));

  app.post('/api/content/templates/:id/test-send', {
    preHandler, config,
    schema: {
      tags, summary: "Send a rendered test to an address: through the workspace's default email sender (else TANDEM_SMTP_URL), else to the dev inbox (GET /api/dev-inbox)",
      params: idParams, querystring: byQuery,
      body: previewInput.extend({ to: z.string().min(3).max(320).describe('An email address, or a phone number for SMS') }),
      response: {
        202: z.object({
          deliveredTo: z.enum(['dev-inbox', 'sender']).describe('sender: handed to the workspace\'s sender (or TANDEM_SMTP_URL); dev-inbox: no sender exists (SMS tests always)'),
          devInboxId: z.string().nullable().describe('The dev inbox message (deliveredTo dev-inbox)'),
          senderId: z.string().nullable().describe('The sender used (deliveredTo sender; "env-smtp" for TANDEM_SMTP_URL)'),
          providerMessageId: z.string().nullable(),
          rendered: renderedView,
        }),
      },
    },
  }, async (req, reply) => {
    const { to, ...input } = req.body;
    const ctx = await previews.contextFor(req.workspaceId, input);
    const id = await templateId(req.workspaceId, req.params.id, req.query.by);
    const { message, sent, rendered } = await templates.testSend(req.workspaceId, id, to, {
      version: input.version, locale: input.locale, context: ctx.context,
    });
    return reply.status(202).send({
      deliveredTo: sent ? 'sender' as const : 'dev-inbox' as const, devInboxId: message?.id ?? null,
      senderId: sent?.senderId ?? null, providerMessageId: sent?.providerMessageId ?? null, rendered,
    });
  });

  for (const kind of ['layout', 'component', 'snippet'] as const) {
    app.get(`/api/content/${kind}s/:id/usage`, {
      preHandler, config,
      schema: {
        tags, summary: `Templates whose latest draft or published version uses this ${kind}`,
        params: idParams, response: { 200: z.object({ templates: z.array(templateRef) }) },
      },
    }, async (req) => ({ templates: (await previews.usage(req.workspaceId, kind, req.params.id)).map(refOut) }));
  }

  app.post('/api/content/components/:id/change-preview', {
    preHandler, config,
    schema: {
      tags, summary: 'Every template using this component, before (published component) and after (its draft or the given version)',
      params: idParams,
      body: previewInput.omit({ version: true }).extend({
        componentVersion: z.number().int().min(1).optional().describe('Default: the component\'s latest draft'),
      }).nullish(),
      response: {
        200: z.object({
          component: z.object({ id: z.string(), name: z.string(), publishedVersion: z.number().int().nullable(), candidateVersion: z.number().int() }),
          templates: z.array(z.object({ template: z.object({ id: z.string(), name: z.string() }), before: outcome, after: outcome, changed: z.boolean() })),
        }),
      },
    },
  }, async (req) => previews.componentChange(req.workspaceId, req.params.id, (req.body ?? {}) as PreviewInput & { componentVersion?: number }));
}
