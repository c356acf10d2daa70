// Builds the Fastify app (no listen): parsers, error handler, OpenAPI, health, metrics, module routes.
import fastify, { LogController } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { AppError } from '../errors.ts';
import { createAuthHooks } from './auth.ts';
import { registerInputGuard } from './input-guard.ts';
import { PUBLIC, registerOpenApi } from './openapi.ts';
import { sendError } from './errors.ts';
import type { TandemApp } from './types.ts';
import { registerWorkspaceRoutes } from '../modules/workspaces/index.ts';
import { registerRoutes } from './routes.ts';
import { registerHomePage } from './home.ts';

export interface BuildAppOptions {
  log: Logger;
  services: Services;
}

export async function buildApp({ log, services }: BuildAppOptions): Promise<TandemApp> {
  const app = fastify({
    loggerInstance: log,
    // Per-request log lines would dominate at ingest rates; metrics cover requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Segment's context.ip comes from the request when a call has none; X-Forwarded-For is believed
    // only when the operator says a proxy of theirs sets it.
    trustProxy: services.config.trustProxy,
    return503OnClosing: true,
    // Customer.io ids may be 150 bytes and emails 254; percent-encoding can triple them.
    routerOptions: { maxParamLength: 1000 },
  }).withTypeProvider() as unknown as TandemApp;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Before any route: every route and plugin scope inherits the parsers and the hook.
  registerInputGuard(app);

  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('route.not_found', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`)));

  app.addHook('onResponse', async (request, reply) => {
    services.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.decorate('auth', createAuthHooks(services.workspaces));
  await registerOpenApi(app, app.auth);

  app.get('/api/openapi.json', {
    schema: {
      tags: ['openapi'], security: PUBLIC, summary: 'This OpenAPI 3.1 document: every route, its schemas and its authentication',
      response: { 200: z.record(z.string(), z.unknown()).describe('The OpenAPI document') },
    },
  }, () => Promise.resolve(app.swagger() as unknown as Record<string, unknown>));

  const status = (value: string) => z.object({ status: z.literal(value) });
  app.get('/health/live', {
    schema: { tags: ['operations'], security: PUBLIC, summary: 'Liveness: 200 while the process runs', response: { 200: status('ok') } },
  }, () => Promise.resolve({ status: 'ok' as const }));
  app.get('/health/ready', {
    schema: {
      tags: ['operations'], security: PUBLIC, summary: 'Readiness: 200 when the database answers, 503 otherwise',
      response: { 200: status('ok'), 503: status('unavailable') },
    },
  }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(services.db);
      return { status: 'ok' as const };
    } catch {
      return reply.status(503).send({ status: 'unavailable' as const });
    }
  });
  app.get('/metrics', {
    schema: {
      tags: ['operations'], security: PUBLIC, summary: 'Prometheus metrics (docs/operations.md lists them)',
      produces: ['text/plain'], response: { 200: z.string().describe('Prometheus text exposition format') },
    },
  }, async (_req, reply) => {
    reply.header('content-type', services.metrics.registry.contentType);
    return services.metrics.registry.metrics();
  });

  registerHomePage(app);
  registerWorkspaceRoutes(app, services.workspaces);
  registerRoutes(app, services);
  drainOnClose(app);
  return app;
}

/**
 * On close, Node closes the keep-alive connections that are idle at that moment; one busy with a
 * request then stays open until its keep-alive timeout (70 s). Close each as soon as it goes idle, and
 * every connection after a deadline, so a shutdown takes as long as the slowest request.
 */
function drainOnClose(app: TandemApp, deadlineMs = 10_000): void {
  app.addHook('preClose', (done) => {
    const server = app.server;
    const tick = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    tick.unref();
    deadline.unref();
    server.once('close', () => {
      clearInterval(tick);
      clearTimeout(deadline);
    });
    done();
  });
}
