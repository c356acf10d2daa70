// The segment definition: one JSON document, the same in the API, the web app and `tandem apply` files.
// A tree of AND / OR / NOT groups over conditions on attributes, events, other segments, topics,
// message activity, reachability and group (account) attributes. docs/segments.md is its reference.
import { z } from 'zod';

export const VALUE_OPS = [
  'equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'exists', 'not_exists',
  'gt', 'gte', 'lt', 'lte', 'between', 'in', 'not_in',
  'before', 'after', 'within_last', 'within_next', 'more_than_ago',
] as const;
export type ValueOp = (typeof VALUE_OPS)[number];
export const TIME_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];
export const UNIT_MS: Record<TimeUnit, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 7 * 86_400_000 };

/** Person fields read from columns rather than `attributes` (an attribute path of this name reads the column). */
export const PERSON_FIELDS = ['email', 'phone', 'id', 'created_at', 'updated_at', 'timezone', 'locale'] as const;

const scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalar>;
const path = z.string().min(1).max(200).regex(/^[^.\s][^\s]*$/, 'a property name, or a dotted path like "company.plan"')
  .refine((p) => !p.split('.').some((s) => s === ''), 'no empty parts in a dotted path');
const amount = z.number().int().min(1).max(36_500);
const isoDate = z.string().datetime({ offset: true }).or(z.string().date());

/** A comparison of one value (a person attribute, an event property, an object attribute). */
const valueShape = {
  path,
  op: z.enum(VALUE_OPS),
  value: scalar.optional().describe('equals, not_equals, contains, starts_with, gt..lte; before/after take an ISO date'),
  values: z.array(scalar).max(1000).optional().describe('in, not_in; between takes [low, high]'),
  amount: amount.optional().describe('within_last, within_next, more_than_ago'),
  unit: z.enum(TIME_UNITS).optional(),
};

function checkValueTest(t: { op: ValueOp; value?: Scalar | undefined; values?: Scalar[] | undefined; amount?: number | undefined; unit?: TimeUnit | undefined }, ctx: z.RefinementCtx): void {
  const need = (field: 'value' | 'values' | 'amount', ok: boolean, msg: string) => {
    if (!ok) ctx.addIssue({ code: 'custom', path: [field], message: msg });
  };
  switch (t.op) {
    case 'exists': case 'not_exists': break;
    case 'in': case 'not_in': need('values', t.values !== undefined, `"${t.op}" needs "values"`); break;
    case 'between':
      need('values', t.values?.length === 2 && t.values.every((v) => typeof v === 'number' || (typeof v === 'string' && isoDate.safeParse(v).success)),
        '"between" needs "values": [low, high] (numbers, or ISO dates)');
      break;
    case 'before': case 'after':
      need('value', typeof t.value === 'string' && isoDate.safeParse(t.value).success, `"${t.op}" needs an ISO date "value"`);
      break;
    case 'within_last': case 'within_next': case 'more_than_ago':
      need('amount', t.amount !== undefined && t.unit !== undefined, `"${t.op}" needs "amount" and "unit"`);
      break;
    case 'gt': case 'gte': case 'lt': case 'lte':
      need('value', typeof t.value === 'number', `"${t.op}" needs a number "value" (use before/after for dates)`);
      break;
    case 'contains': case 'not_contains':
      need('value', t.value !== undefined && t.value !== null, `"${t.op}" needs a "value"`);
      break;
    case 'starts_with': need('value', typeof t.value === 'string', '"starts_with" needs a string "value"'); break;
    case 'equals': case 'not_equals': need('value', t.value !== undefined, `"${t.op}" needs a "value"`);
  }
}

export const valueTest = z.object(valueShape).strict().superRefine(checkValueTest);
export type ValueTest = z.infer<typeof valueTest>;

const window = z.union([
  z.object({ last: amount, unit: z.enum(TIME_UNITS) }).strict(),
  z.object({ from: isoDate, to: isoDate }).strict(),
]);
export type Window = z.infer<typeof window>;

export const COUNT_OPS = ['at_least', 'at_most', 'exactly'] as const;
export const MESSAGE_ACTIVITIES = ['received', 'opened', 'clicked'] as const;
export const REACHABILITY = ['has_email', 'has_phone', 'email_not_suppressed', 'phone_not_suppressed'] as const;
export const TOPIC_STATES = ['subscribed', 'unsubscribed', 'pending'] as const;

const attributeCond = z.object({ type: z.literal('attribute'), ...valueShape }).strict().superRefine(checkValueTest);
const eventCond = z.object({
  type: z.literal('event'),
  name: z.string().min(1).max(200),
  performed: z.boolean().default(true).describe('false: has not performed it (in the window, with the filters)'),
  where: z.array(valueTest).max(20).optional().describe('Filters on the event properties, all of which must hold'),
  count: z.object({ op: z.enum(COUNT_OPS), value: z.number().int().min(0).max(1_000_000) }).strict().optional(),
  within: window.optional(),
  occurrence: z.enum(['first', 'last']).optional().describe('The window applies to the first (or last) matching event ever'),
}).strict().superRefine((c, ctx) => {
  if (c.occurrence && c.count) ctx.addIssue({ code: 'custom', path: ['occurrence'], message: '"occurrence" and "count" cannot be combined' });
  if (c.occurrence && !c.within) ctx.addIssue({ code: 'custom', path: ['within'], message: '"occurrence" needs "within"' });
});
const segmentCond = z.object({ type: z.literal('segment'), segment: z.string().min(1).max(200).describe('Segment id or key'), member: z.boolean().default(true) }).strict();
const topicCond = z.object({ type: z.literal('topic'), topic: z.string().min(1).max(100).describe('Topic key'), state: z.enum(TOPIC_STATES).default('subscribed') }).strict();
const messageCond = z.object({
  type: z.literal('message'),
  activity: z.enum(MESSAGE_ACTIVITIES),
  template: z.string().min(1).max(200).optional().describe('Template id or name; any template when absent'),
  within: window.optional(),
  performed: z.boolean().default(true),
}).strict();
const reachCond = z.object({ type: z.literal('reachability'), check: z.enum(REACHABILITY), negate: z.boolean().default(false) }).strict();
const groupCond = z.object({ type: z.literal('group'), objectType: z.string().min(1).max(100).default('group'), ...valueShape }).strict().superRefine(checkValueTest);

export type AttributeCondition = { type: 'attribute' } & ValueTest;
export type EventCondition = z.infer<typeof eventCond>;
export type SegmentCondition = z.infer<typeof segmentCond>;
export type TopicCondition = z.infer<typeof topicCond>;
export type MessageCondition = z.infer<typeof messageCond>;
export type ReachabilityCondition = z.infer<typeof reachCond>;
export type GroupCondition = { type: 'group'; objectType: string } & ValueTest;
export type Leaf = AttributeCondition | EventCondition | SegmentCondition | TopicCondition | MessageCondition | ReachabilityCondition | GroupCondition;
export type Condition =
  | { type: 'and'; conditions: Condition[] }
  | { type: 'or'; conditions: Condition[] }
  | { type: 'not'; condition: Condition }
  | Leaf;

export const MAX_DEPTH = 10;
export const MAX_CONDITIONS = 200;

export const condition: z.ZodType<Condition> = z.lazy(() => z.discriminatedUnion('type', [
  z.object({ type: z.literal('and'), conditions: z.array(condition).max(MAX_CONDITIONS) }).strict(),
  z.object({ type: z.literal('or'), conditions: z.array(condition).max(MAX_CONDITIONS) }).strict(),
  z.object({ type: z.literal('not'), condition }).strict(),
  attributeCond, eventCond, segmentCond, topicCond, messageCond, reachCond, groupCond,
]));

/** Every leaf of a definition, depth first. */
export function leaves(c: Condition): Leaf[] {
  if (c.type === 'and' || c.type === 'or') return c.conditions.flatMap(leaves);
  if (c.type === 'not') return leaves(c.condition);
  return [c];
}

export function depthOf(c: Condition): number {
  if (c.type === 'and' || c.type === 'or') return 1 + Math.max(0, ...c.conditions.map(depthOf));
  if (c.type === 'not') return 1 + depthOf(c.condition);
  return 1;
}

/** True when membership can change by the passing of time alone. */
export function isTimeBased(c: Condition): boolean {
  return leaves(c).some((l) => {
    if (l.type === 'attribute' || l.type === 'group') return l.op === 'within_last' || l.op === 'within_next' || l.op === 'more_than_ago';
    if (l.type === 'event' || l.type === 'message') return l.within !== undefined && 'last' in l.within;
    return false;
  });
}
