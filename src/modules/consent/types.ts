// Consent vocabulary: topics, states, sources, the ledger and the change the hook receives.
import type { Queryable } from '../../db/pool.ts';

export const CHANNELS = ['email', 'sms'] as const;
export type ConsentChannel = (typeof CHANNELS)[number];
export const TOPIC_CHANNELS = ['email', 'sms', 'any'] as const;
export type TopicChannel = (typeof TOPIC_CHANNELS)[number];
export const TOPIC_DEFAULTS = ['opt_in', 'opt_out'] as const;
export type TopicDefault = (typeof TOPIC_DEFAULTS)[number];
export const TOPIC_STATES = ['subscribed', 'unsubscribed', 'pending'] as const;
export type TopicState = (typeof TOPIC_STATES)[number];
export const SOURCES = ['one_click', 'preference_centre', 'api', 'import', 'form', 'bounce', 'complaint', 'admin', 'confirmation'] as const;
export type ConsentSource = (typeof SOURCES)[number];
/** What a caller may name as the source of a change: `confirmation` is only ever the double opt-in link's. */
export const CALLER_SOURCES = SOURCES.filter((s): s is Exclude<ConsentSource, 'confirmation'> => s !== 'confirmation');
export const SUPPRESSION_REASONS = ['hard_bounce', 'complaint', 'manual', 'deleted_person'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** A topic key: what templates and API calls name a topic by. */
export const TOPIC_KEY = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export interface Topic {
  id: string;
  key: string;
  name: string;
  description: string;
  default: TopicDefault;
  channel: TopicChannel;
  doubleOptIn: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface TopicInput {
  key: string;
  name: string;
  description?: string | undefined;
  default: TopicDefault;
  channel: TopicChannel;
  doubleOptIn?: boolean | undefined;
}

export interface PersonTopicState {
  key: string;
  name: string;
  description: string;
  channel: TopicChannel;
  default: TopicDefault;
  /** The effective state: the person's own choice, else what the default gives. */
  state: TopicState;
  /** false while the state comes from the topic's default. */
  explicit: boolean;
  updatedAt: Date | null;
}

export interface ConsentState {
  personId: string;
  topics: PersonTopicState[];
  unsubscribedAll: Record<ConsentChannel, boolean>;
}

/** What a consent change asks for; states equal to the current ones are ignored. */
export interface ConsentChanges {
  /** true: subscribed, false: unsubscribed, or an explicit state. */
  topics?: Record<string, boolean | TopicState> | undefined;
  unsubscribedAll?: Partial<Record<ConsentChannel, boolean>> | undefined;
}

export interface ConsentContext {
  source: ConsentSource;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  messageId?: string | null | undefined;
}

export type LedgerKind = 'topic' | 'global' | 'suppression';

export interface LedgerEntry {
  id: string;
  personId: string | null;
  kind: LedgerKind;
  channel: TopicChannel;
  address: string | null;
  topic: string | null;
  from: string;
  to: string;
  source: ConsentSource;
  ip: string | null;
  userAgent: string | null;
  messageId: string | null;
  at: Date;
}

/**
 * One change, given to the `onChange` hook inside the transaction that made it (outbound webhooks,
 * CRM sync). `kind` tells a topic state, a global unsubscribe and a suppression apart; for a
 * suppression `from`/`to` are `allowed`/`suppressed` and `personId` may be null.
 */
export interface ConsentChange {
  workspaceId: string;
  personId: string | null;
  kind: LedgerKind;
  address: string | null;
  channel: TopicChannel;
  topic: string | null;
  from: string;
  to: string;
  source: ConsentSource;
  at: Date;
  ip: string | null;
  userAgent: string | null;
  messageId: string | null;
  ledgerId: string;
}

export type ConsentHook = (tx: Queryable, change: ConsentChange) => Promise<void>;

export interface Suppression {
  channel: ConsentChannel;
  address: string;
  reason: SuppressionReason;
  source: string;
  createdAt: Date;
}

export type CheckResult =
  | { allowed: true }
  | { allowed: false; reason: 'suppressed' | 'unsubscribed' | 'topic_unsubscribed' | 'not_opted_in' };

export interface CheckWho {
  personId?: string | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
}

export interface CheckWhat {
  channel: ConsentChannel;
  marketing: boolean;
  topic?: string | null | undefined;
  sendToUnsubscribed?: boolean | undefined;
}

export interface ConsentLinks {
  oneClickUrl: string;
  unsubscribeUrl: string;
  preferencesUrl: string;
  mailto: string;
}
