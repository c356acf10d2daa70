// The OpenAPI document (GET /api/openapi.json), built by @fastify/swagger from the routes' zod schemas.
// Every route is in it except the methods in UNDOCUMENTED_METHODS. Each operation gets, in one place:
// - operationId: the route's own, else the method and the path in camel case (GET /api/people/:id is
//   getApiPeopleById), so it is unique and changes only when the route does;
// - security: read from the route's auth preHandler (app.auth.appKey, writeKey, trackKey), so the
//   document cannot drift from what the server checks. A route without one (public pages, inbound
//   webhooks) declares its own, `[]` for none; declaring one that contradicts the preHandler fails at
//   startup. test/openapi.test.ts holds every route to this.
import swagger from '@fastify/swagger';
import type { FastifySchema, RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthHooks } from './auth.ts';
import type { TandemApp } from './types.ts';

/**
 * Served but not documented as operations: HEAD is Fastify's automatic twin of every GET (the same
 * answer without a body), OPTIONS the CORS preflight of the Segment routes.
 */
export const UNDOCUMENTED_METHODS: ReadonlySet<string> = new Set(['HEAD', 'OPTIONS']);

export const SECURITY_SCHEMES = {
  appKey: { type: 'http', scheme: 'bearer', description: 'App API key (tdm_app_…): Tandem\'s REST API and Customer.io\'s App API' },
  writeKey: { type: 'http', scheme: 'basic', description: 'Segment write key as the user name (or `writeKey` in the body)' },
  trackKey: { type: 'http', scheme: 'basic', description: 'Customer.io site id : track API key' },
  inboundSignature: {
    type: 'apiKey', in: 'header', name: 'X-Twilio-Email-Event-Webhook-Signature',
    description: 'Inbound provider notifications are verified against the secret saved on the sender, each provider its own way: '
      + 'SendGrid\'s ECDSA signature (this header), Resend\'s Svix signature headers, Mailgun\'s HMAC signature in the body, '
      + 'SES\'s signed SNS message (see docs/bounces.md)',
  },
  inboundBasic: { type: 'http', scheme: 'basic', description: 'Postmark webhooks: the user name and password saved on the sender' },
  inboundBearer: { type: 'http', scheme: 'bearer', description: 'DSN relays: the token saved on the sender' },
} as const;
export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
export type Security = Array<Partial<Record<SecuritySchemeName, string[]>>>;

/** Any one of the inbound schemes, whichever the provider in the path uses. */
export const INBOUND_SECURITY: Security = [{ inboundSignature: [] }, { inboundBasic: [] }, { inboundBearer: [] }];
/** A page or file anyone may fetch: no credentials (a signed token in the path where one is needed). */
export const PUBLIC: Security = [];

/** A response body that is a file (an image, a GIF): a binary string in the document, a Buffer in the handler. */
export const binary = (description: string) => z.unknown().meta({ type: 'string', format: 'binary', description });

export function operationIdOf(method: string, url: string): string {
  const words = url.split('/').filter(Boolean).map((seg) => (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg))
    .flatMap((seg) => seg.split(/[^A-Za-z0-9]+/)).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The security an auth preHandler enforces; undefined when the route has none of them. */
function securityOf(preHandler: RouteOptions['preHandler'], auth: AuthHooks): Security | undefined {
  const handlers: unknown[] = Array.isArray(preHandler) ? preHandler : preHandler ? [preHandler] : [];
  const names = (Object.keys(auth) as Array<keyof AuthHooks>).filter((name) => handlers.includes(auth[name]));
  return names.length === 0 ? undefined : names.map((name) => ({ [name]: [] }));
}

export async function registerOpenApi(app: TandemApp, auth: AuthHooks): Promise<void> {
  // Startup, not the document request, is where a route that says one thing and checks another fails.
  app.addHook('onRoute', (route) => {
    const declared = (route.schema as { security?: Security } | undefined)?.security;
    const enforced = securityOf(route.preHandler, auth);
    if (declared !== undefined && enforced !== undefined && JSON.stringify(declared) !== JSON.stringify(enforced)) {
      throw new Error(`${String(route.method)} ${route.url} declares security ${JSON.stringify(declared)} but checks ${JSON.stringify(enforced)}`);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tandem API', version: '0.1.0', description: 'Tandem: self-hosted customer messaging.' },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    // Emits the named zod schemas (recursive ones, which routes can only refer to) as components.
    transformObject: jsonSchemaTransformObject,
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      const given = out.schema as (FastifySchema & Record<string, unknown>) | undefined;
      if (given?.['hide']) return out;
      const { route } = input;
      const method = Array.isArray(route.method) ? route.method.join('-') : route.method;
      const schema: FastifySchema & Record<string, unknown> = { ...given };
      schema['operationId'] ??= operationIdOf(method, route.url);
      schema['security'] ??= securityOf(route.preHandler, auth);
      return { ...out, schema };
    },
  });
}
