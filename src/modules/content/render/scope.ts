// The variables a template sees. Customer.io names (`customer`, `event`, `trigger`) plus Tandem's
// (`person`, `workspace`, `message`). Everything is plain data: the renderer passes this object as
// LiquidJS globals with ownPropertyOnly, so nothing but these keys is reachable.

export type PlainObject = Record<string, unknown>;

export interface RenderPerson {
  /** Tandem's person uuid. */
  id: string;
  /** The customer id the workspace uses (Segment userId, Customer.io id). */
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
  locale?: string | null;
  timezone?: string | null;
  attributes?: PlainObject;
}

export interface RenderLinks {
  unsubscribe_url?: string;
  preferences_url?: string;
  view_in_browser_url?: string;
}

export interface RenderContextInput {
  person?: RenderPerson;
  /** The triggering event's properties (`event.<prop>`). */
  event?: PlainObject;
  /** Trigger data (API-triggered broadcasts, webhooks): `trigger.<…>`. */
  trigger?: PlainObject;
  workspace?: PlainObject;
  /** Message metadata (id, campaign…); link URLs are added from `links`. */
  message?: PlainObject;
  links?: RenderLinks;
}

export interface RenderData {
  customer: PlainObject;
  person: PlainObject;
  event: PlainObject;
  trigger: PlainObject;
  workspace: PlainObject;
  message: PlainObject;
}

/** Build the render data for one person. `customer.id` is the workspace's own id for the person. */
export function buildRenderData(input: RenderContextInput): RenderData {
  const p = input.person;
  const attributes = p?.attributes ?? {};
  const customer: PlainObject = p
    ? { ...attributes, id: p.externalId ?? p.id, email: p.email ?? attributes['email'] ?? null }
    : {};
  const person: PlainObject = p
    ? {
        id: p.id,
        external_id: p.externalId ?? null,
        email: p.email ?? null,
        phone: p.phone ?? null,
        locale: p.locale ?? null,
        timezone: p.timezone ?? null,
        attributes,
      }
    : {};
  return {
    customer,
    person,
    event: input.event ?? {},
    trigger: input.trigger ?? {},
    workspace: input.workspace ?? {},
    message: { ...input.message, ...input.links },
  };
}
