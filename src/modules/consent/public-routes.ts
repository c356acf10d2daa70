// The public consent pages: /u/:token (RFC 8058 one-click), /preferences/:token, /confirm/:token.
// No key, no cookies, HTML only. GET and HEAD never change anything. Any token problem is a 400 page.
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, isAppError, type ErrorCode } from '../../errors.ts';
import { PUBLIC } from '../../http/openapi.ts';
import type { TandemApp } from '../../http/types.ts';
import {
  PAGE_HEADERS, confirmPage, confirmedPage, errorPage, preferencesPage, unsubscribeConfirmPage, unsubscribedPage,
} from './pages.ts';
import { pickLanguage } from './strings.ts';
import type { PublicConsent, RequestContext } from './public.ts';

type Form = Record<string, string[]>;

const params = z.object({ token: z.string().max(2048) });
/** Public pages: the signed token in the path is the only credential. A bad token answers a 400 page. */
const pageSchema = (summary: string) => ({
  tags: ['consent'], security: PUBLIC, summary, params, produces: ['text/html'], response: { 200: z.string().describe('The page') },
});
const config = { dialect: 'tandem' as const };

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).headers(PAGE_HEADERS).send(body);
}

/** Consent errors (bad token, bad one-click body) answer as a page; anything else goes to the error handler. */
async function page(req: FastifyRequest, reply: FastifyReply, work: () => Promise<string>): Promise<FastifyReply> {
  try {
    return html(reply, 200, await work());
  } catch (err) {
    if (isAppError(err) && (err.code === 'consent.bad_token' || err.code === 'consent.bad_request' || err.code === 'consent.link_expired')) {
      const lang = pickLanguage(...(req.headers['accept-language'] ?? '').split(',').map((s) => s.split(';')[0]));
      return html(reply, err.status, errorPage({ lang, workspaceName: '' }, err.code satisfies ErrorCode));
    }
    throw err;
  }
}

/** Form fields from a urlencoded or multipart body (or JSON, for clients that send it), as lists. */
async function readForm(req: FastifyRequest): Promise<Form> {
  const out: Form = {};
  const add = (k: string, v: unknown) => {
    if (typeof v === 'string') (out[k] ??= []).push(v);
  };
  if (req.isMultipart()) {
    try {
      for await (const part of req.parts()) {
        if (part.type === 'field') add(part.fieldname, part.value);
        else part.file.resume();
      }
    } catch {
      throw new AppError('consent.bad_request', undefined, { field: 'body' });
    }
    return out;
  }
  const body = req.body;
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) for (const one of Array.isArray(v) ? v : [v]) add(k, one);
  }
  return out;
}

function requestContext(req: FastifyRequest): RequestContext {
  const ua = req.headers['user-agent'];
  return { ip: req.ip || null, userAgent: typeof ua === 'string' ? ua.slice(0, 1000) : null };
}

export function registerConsentPages(app: TandemApp, pub: PublicConsent): void {
  void app.register(async (scope: TandemApp) => {
    // RFC 8058 allows application/x-www-form-urlencoded and multipart/form-data; HTML forms send the first.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      const form: Form = {};
      for (const [k, v] of new URLSearchParams(body as string)) (form[k] ??= []).push(v);
      done(null, form);
    });
    await scope.register(multipart, { limits: { fileSize: 1024, files: 1, fields: 200, fieldSize: 4096, parts: 200, headerPairs: 50 } });

    scope.get('/u/:token', { config, schema: pageSchema('Unsubscribe link: a page that asks to confirm (a GET changes nothing)') }, async (req, reply) => page(req, reply, async () => {
      const p = await pub.unsubscribePage(req.params.token);
      return unsubscribeConfirmPage({ lang: p.lang, workspaceName: p.target.workspaceName }, p.address, p.preferencesUrl);
    }));

    scope.post('/u/:token', { config, schema: pageSchema('RFC 8058 one-click unsubscribe (form body List-Unsubscribe=One-Click)') }, async (req, reply) => page(req, reply, async () => {
      const form = await readForm(req);
      // Check the token first: a forged link answers "bad link" whatever its body.
      await pub.unsubscribePage(req.params.token);
      if (!(form['List-Unsubscribe'] ?? []).includes('One-Click')) {
        throw new AppError('consent.bad_request', undefined, { field: 'List-Unsubscribe' });
      }
      const done = await pub.oneClick(req.params.token, requestContext(req));
      return unsubscribedPage({ lang: done.lang, workspaceName: done.target.workspaceName }, done.preferencesUrl);
    }));

    scope.get('/preferences/:token', { config, schema: pageSchema('The preference centre: topics and unsubscribe from all') }, async (req, reply) => page(req, reply, async () => {
      const v = await pub.preferencesPage(req.params.token);
      return preferencesPage({ lang: v.lang, workspaceName: v.target.workspaceName }, {
        address: v.address, channel: v.target.channel, topics: v.topics, unsubscribedAll: v.unsubscribedAll, saved: false,
      });
    }));

    scope.post('/preferences/:token', { config, schema: pageSchema('Save the preference centre\'s form') }, async (req, reply) => page(req, reply, async () => {
      const form = await readForm(req);
      // Only the page's own form (which carries save=1) saves: an empty POST must not clear an unsubscribe.
      await pub.preferencesPage(req.params.token);
      if (!(form['save'] ?? []).includes('1')) throw new AppError('consent.bad_request', undefined, { field: 'save' });
      const v = await pub.savePreferences(req.params.token, {
        shown: form['shown'] ?? [], topic: form['topic'] ?? [], all: (form['all'] ?? []).includes('on'),
      }, requestContext(req));
      return preferencesPage({ lang: v.lang, workspaceName: v.target.workspaceName }, {
        address: v.address, channel: v.target.channel, topics: v.topics, unsubscribedAll: v.unsubscribedAll, saved: true,
      });
    }));

    scope.get('/confirm/:token', { config, schema: pageSchema('Double opt-in confirmation link: a page with the confirm button (a GET changes nothing)') }, async (req, reply) => page(req, reply, async () => {
      const c = await pub.confirmPage(req.params.token);
      return confirmPage({ lang: c.lang, workspaceName: c.target.workspaceName }, c.topicName);
    }));

    scope.post('/confirm/:token', { config, schema: pageSchema('Confirm a double opt-in subscription') }, async (req, reply) => page(req, reply, async () => {
      const c = await pub.confirm(req.params.token, requestContext(req));
      return confirmedPage({ lang: c.lang, workspaceName: c.target.workspaceName }, c.topicName, c.confirmed);
    }));
  });
}
