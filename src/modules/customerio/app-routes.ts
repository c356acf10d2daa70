// Customer.io App API reads (Bearer app API key): a person's attributes and devices, people by email.
// Answers in Customer.io's shapes: attribute values are strings, times are unix seconds.
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { PeopleQueryService } from '../people/index.ts';
import type { CustomerioRepo } from './repo.ts';

export interface AppRouteDeps {
  peopleQuery: Pick<PeopleQueryService, 'get' | 'list'>;
  repo: CustomerioRepo;
}

/** How many people GET /v1/customers?email= answers with at most. */
const MAX_EMAIL_MATCHES = 100;

const unix = (d: Date): number => Math.floor(d.getTime() / 1000);

/** Customer.io keeps every attribute as a string: numbers and booleans as text, objects as JSON. */
export function attributeString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/** Customer.io reads true in any case, 1 and "1" as unsubscribed. */
export function isUnsubscribed(v: unknown): boolean {
  if (v === true || v === 1) return true;
  return typeof v === 'string' && (v.toLowerCase() === 'true' || v === '1');
}

const customerView = z.object({
  customer: z.object({
    id: z.string().nullable(),
    identifiers: z.object({ id: z.string().nullable(), email: z.string().nullable(), cio_id: z.string() }),
    attributes: z.record(z.string(), z.string()),
    timestamps: z.record(z.string(), z.number()),
    unsubscribed: z.boolean(),
    devices: z.array(z.object({
      id: z.string(), platform: z.string().nullable(), last_used: z.number().nullable(), attributes: z.record(z.string(), z.string()),
    })),
  }),
});

const ID_TYPES = ['id', 'email', 'cio_id'] as const;

export function registerAppRoutes(app: TandemApp, deps: AppRouteDeps): void {
  const { peopleQuery, repo } = deps;
  const tags = ['customerio'];
  const security = [{ appKey: [] }];
  const common = { preHandler: app.auth.appKey, config: { dialect: 'customerio' as const } };

  app.get('/v1/customers/:identifier/attributes', {
    ...common,
    schema: {
      tags, security, summary: 'A person\'s attributes and devices (Customer.io App API)',
      params: z.object({ identifier: z.string().min(1).max(1000) }),
      querystring: z.object({
        id_type: z.enum(ID_TYPES).default('id').describe('What :identifier is; cio_id is Tandem\'s person id (with or without "cio_")'),
      }),
      response: { 200: customerView },
    },
  }, async (req) => {
    const { identifier } = req.params;
    const key = req.query.id_type === 'cio_id' && identifier.startsWith('cio_') ? identifier.slice(4) : identifier;
    const by = req.query.id_type === 'id' ? 'userId' : req.query.id_type === 'email' ? 'email' : 'id';
    const person = await peopleQuery.get(req.workspaceId, key, by);
    const devices = await repo.devices(req.workspaceId, person.id);
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(person.attributes)) if (v !== null && v !== undefined) attributes[k] = attributeString(v);
    attributes.cio_id = person.id;
    if (person.userId !== null) attributes.id = person.userId;
    if (person.email !== null) attributes.email = person.email;
    return {
      customer: {
        id: person.userId,
        identifiers: { id: person.userId, email: person.email, cio_id: person.id },
        attributes,
        timestamps: { cio_id: unix(new Date(person.createdAt)) },
        unsubscribed: isUnsubscribed(person.attributes.unsubscribed),
        devices: devices.map((d) => ({
          id: d.deviceId,
          platform: d.platform,
          last_used: d.lastUsed ? unix(d.lastUsed) : null,
          attributes: Object.fromEntries(Object.entries(d.attributes).map(([k, v]) => [k, attributeString(v)])),
        })),
      },
    };
  });

  app.get('/v1/customers', {
    ...common,
    schema: {
      tags, security, summary: 'People with an email address (Customer.io App API)',
      querystring: z.object({ email: z.string().min(1).max(1000) }),
      response: {
        200: z.object({ results: z.array(z.object({ email: z.string().nullable(), id: z.string().nullable(), cio_id: z.string() })) }),
      },
    },
  }, async (req) => {
    const { people } = await peopleQuery.list(req.workspaceId, { limit: MAX_EMAIL_MATCHES, email: req.query.email });
    // Oldest first, as Customer.io lists them (and as an email names the oldest person in identity).
    return { results: people.reverse().map((p) => ({ email: p.email, id: p.userId, cio_id: p.id })) };
  });
}
