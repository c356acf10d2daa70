export type IdentifierKind = 'user' | 'anonymous';
export type SuppressionKind = 'user' | 'anonymous' | 'email';

/** How callers name a person: Tandem's uuid, a user id, an email, or an anonymous id. */
export interface PersonRef {
  id?: string;
  userId?: string;
  email?: string;
  anonymousId?: string;
}

export interface NewPerson {
  id: string;
  externalId: string | null;
  email: string | null;
  identified: boolean;
  at: Date;
  /** First attributes, written with the row (a new person needs no separate UPDATE). */
  attributes?: Record<string, unknown>;
  phone?: string | null;
  timezone?: string | null;
  locale?: string | null;
}

/** Accumulated changes for one person from one batch; applied in one UPDATE. */
export interface PersonPatch {
  id: string;
  set: Record<string, unknown>;
  unset: string[];
  externalId?: string;
  /** undefined: leave; null: clear; string: set. */
  email?: string | null;
  phone?: string | null;
  timezone?: string;
  locale?: string;
  identified?: boolean;
}

export interface Device {
  id: string;
  platform?: string | null;
  lastUsed?: Date | null;
  attributes?: Record<string, unknown>;
}
