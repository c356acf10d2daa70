// Tracking over HTTP. Public (no key, no cookies): /c/:token (click redirect), /o/:token.gif (open
// pixel), /v/:token (view in browser); a bad token answers a 404 page and records nothing. App API:
// the workspace's tracking settings and per-template metrics.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { binary, PUBLIC } from '../../http/openapi.ts';
import type { TandemApp } from '../../http/types.ts';
import { PAGE_HEADERS, PIXEL_GIF, PIXEL_HEADERS, REDIRECT_HEADERS, VIEW_HEADERS, badLinkPage, notKeptPage, notSentPage, previewLinkPage } from './pages.ts';
import type { TrackingService } from './service.ts';
import type { RequestContext, TemplateMetrics, TrackingSettings } from './types.ts';

const controlChar = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
const utmValue = z.string().min(1).max(200).refine((s) => !controlChar(s), 'must not contain control characters')
  .describe('Percent-encoded into each link; `{{template}}` is the template\'s name');
const utmSchema = z.object({ source: utmValue.optional(), medium: utmValue.optional(), campaign: utmValue.optional() }).strict()
  .describe('utm_source, utm_medium, utm_campaign appended to tracked links that lack them; campaign defaults to "{{template}}"');
const settingsView = z.object({
  openTracking: z.boolean().describe('Insert the open pixel'),
  clickTracking: z.boolean().describe('Rewrite http(s) links to signed /c/ links'),
  utm: utmSchema.nullable().describe('null: no UTM tags'),
});
const settingsBody = settingsView.extend({ utm: utmSchema.nullable().optional().describe('null or absent: no UTM tags') }).strict();

const rateOf = (what: string) => z.number().nullable().describe(`${what} (0..1); null when the denominator is 0`);
const metricsView = z.object({
  templateId: z.string(),
  total: z.number().int().describe('Messages of this template, any status'),
  queued: z.number().int().describe('Not sent yet (queued, sending, retrying)'),
  sent: z.number().int().describe('Handed to a sender (sent, delivered, bounced, complained)'),
  delivered: z.number().int().describe('Reported delivered by the provider (delivered, complained)'),
  bounced: z.number().int(), complained: z.number().int(), failed: z.number().int(), suppressed: z.number().int(),
  opened: z.number().int().describe('Messages opened at least once (open pixel loads; approximate)'),
  clicked: z.number().int().describe('Messages with at least one tracked click'),
  rates: z.object({
    delivery: rateOf('delivered / sent'), bounce: rateOf('bounced / sent'), complaint: rateOf('complained / sent'),
    open: rateOf('opened / sent'), click: rateOf('clicked / sent'), clickToOpen: rateOf('clicked / opened'),
  }),
});

const tokenParams = z.object({ token: z.string().max(2048) });
const fileParams = z.object({ file: z.string().max(2048) });
/** Public: the token (or file name) in the path is signed. A bad or unknown one answers a 404 page. */
const publicSchema = { tags: ['tracking'], security: PUBLIC };
const page = (description: string) => ({ produces: ['text/html'], response: { 200: z.string().describe(description) } });
const config = { dialect: 'tandem' as const };

function requestContext(req: FastifyRequest): RequestContext {
  const ua = req.headers['user-agent'];
  return { ip: req.ip || null, userAgent: typeof ua === 'string' ? ua.slice(0, 1000) : null };
}

function badLink(reply: FastifyReply): FastifyReply {
  return reply.status(404).headers(PAGE_HEADERS).send(badLinkPage());
}

const settingsOut = (s: TrackingSettings): z.infer<typeof settingsView> => ({ openTracking: s.openTracking, clickTracking: s.clickTracking, utm: s.utm });
const metricsOut = (m: TemplateMetrics): z.infer<typeof metricsView> => m;

export function registerTrackingRoutes(app: TandemApp, tracking: TrackingService): void {
  // HEAD (link scanners, prefetchers) answers like GET but records nothing.
  const record = (req: FastifyRequest) => ({ record: req.method !== 'HEAD' });

  app.get('/c/:token', {
    config,
    schema: {
      ...publicSchema, summary: 'A tracked link: records the click and redirects to the URL recorded for the message', params: tokenParams,
      response: { 302: z.null().describe('Redirect (Location) to the recorded URL') },
    },
  }, async (req, reply) => {
    const url = await tracking.click(req.params.token, requestContext(req), record(req));
    if (url === null) return badLink(reply);
    return reply.headers(REDIRECT_HEADERS).redirect(url, 302);
  });

  app.get('/o/:file', {
    config,
    schema: {
      ...publicSchema, summary: 'The open-tracking pixel (<token>.gif): records the open', params: fileParams,
      produces: ['image/gif'], response: { 200: binary('A 1x1 transparent GIF') },
    },
  }, async (req, reply) => {
    const file = req.params.file;
    if (!file.endsWith('.gif')) return badLink(reply);
    if (!await tracking.open(file.slice(0, -4), requestContext(req), record(req))) return badLink(reply);
    return reply.status(200).headers(PIXEL_HEADERS).send(PIXEL_GIF);
  });

  app.get('/v/:token', {
    config, schema: { ...publicSchema, summary: 'View in browser: the message as it was sent', params: tokenParams, ...page('The message\'s HTML') },
  }, async (req, reply) => {
    const found = await tracking.view(req.params.token);
    if (!found) return badLink(reply);
    if (found.html === null) return reply.status(200).headers(PAGE_HEADERS).send(found.sent ? notKeptPage() : notSentPage());
    return reply.status(200).headers(VIEW_HEADERS).send(found.html);
  });

  // The links of a preview (content/templates/preview.ts): harmless pages, so a click in a preview
  // shows what it is instead of a 404. POST too: a one-click unsubscribe form posts.
  const PREVIEW_LINKS = { unsubscribe: 'the one-click unsubscribe page', preferences: 'the preference centre', 'view-in-browser': 'the message in a browser' };
  for (const [name, what] of Object.entries(PREVIEW_LINKS)) {
    for (const method of ['GET', 'POST'] as const) {
      app.route({ method, url: `/preview/${name}`, config,
        schema: { ...publicSchema, summary: `A preview's link to ${what}: a page saying it is a preview`, ...page('The page') },
        handler: async (_req, reply) => reply.status(200).headers(PAGE_HEADERS).send(previewLinkPage(what)) });
    }
  }

  const tags = ['tracking'];
  const preHandler = app.auth.appKey;

  app.get('/api/tracking/settings', {
    preHandler, config,
    schema: { tags, summary: 'The workspace\'s tracking settings (default: open and click tracking on, no UTM tags)', response: { 200: settingsView } },
  }, async (req) => settingsOut(await tracking.settings(req.workspaceId)));

  app.put('/api/tracking/settings', {
    preHandler, config,
    schema: {
      tags, summary: 'Replace the workspace\'s tracking settings (applies to messages sent from then on)',
      body: settingsBody, response: { 200: settingsView },
    },
  }, async (req) => settingsOut(await tracking.saveSettings(req.workspaceId, {
    openTracking: req.body.openTracking, clickTracking: req.body.clickTracking, utm: req.body.utm ?? null,
  })));

  app.get('/api/content/templates/:id/metrics', {
    preHandler, config,
    schema: {
      tags: ['content', ...tags], summary: 'Delivery metrics of a template: messages by status, unique opens and clicks, rates',
      params: z.object({ id: z.string().max(200) }),
      querystring: z.object({ by: z.enum(['id', 'name']).default('id').describe('Whether :id is the template\'s id or its name') }),
      response: { 200: metricsView },
    },
  }, async (req) => metricsOut(await tracking.metrics(req.workspaceId, req.params.id, req.query.by)));
}
