// "Why is this person (not) in it": every condition of a definition, in words, with its result for one
// person and what was found (the attribute's value, how many matching events and when the last was).
import { sql, type RawBuilder } from 'kysely';
import { compile, personValue, windowBounds, type CompileContext } from './compile.ts';
import type { Condition, Leaf, ValueTest, Window } from './definition.ts';

export interface ExplainNode {
  /** Where the condition sits: "definition.conditions[0]". */
  path: string;
  type: Condition['type'];
  /** The condition in words. */
  label: string;
  result: boolean;
  /** What was found for this person, in words. */
  found?: string;
  children?: ExplainNode[];
}

const OP_WORDS: Record<ValueTest['op'], string> = {
  equals: 'equals', not_equals: 'does not equal', contains: 'contains', not_contains: 'does not contain', starts_with: 'starts with',
  exists: 'exists', not_exists: 'does not exist', gt: 'is greater than', gte: 'is at least', lt: 'is less than', lte: 'is at most',
  between: 'is between', in: 'is one of', not_in: 'is none of', before: 'is before', after: 'is after',
  within_last: 'is within the last', within_next: 'is within the next', more_than_ago: 'is more than',
};

const show = (v: unknown) => JSON.stringify(v);

export function describeTest(subject: string, t: ValueTest): string {
  const words = `${subject} ${OP_WORDS[t.op]}`;
  switch (t.op) {
    case 'exists': case 'not_exists': return words;
    case 'between': return `${words} ${show(t.values?.[0])} and ${show(t.values?.[1])}`;
    case 'in': case 'not_in': return `${words} ${(t.values ?? []).map(show).join(', ')}`;
    case 'within_last': case 'within_next': return `${words} ${t.amount} ${t.unit}`;
    case 'more_than_ago': return `${words} ${t.amount} ${t.unit} ago`;
    case 'after': case 'before': case 'contains': case 'equals': case 'gt': case 'gte': case 'lt': case 'lte': case 'not_contains': case 'not_equals': case 'starts_with':
      return `${words} ${show(t.value)}`;
  }
}

function describeWindow(w: Window | undefined): string {
  if (!w) return '';
  return 'last' in w ? ` in the last ${w.last} ${w.unit}` : ` between ${w.from} and ${w.to}`;
}

export function describe(c: Condition): string {
  switch (c.type) {
    case 'and': return `all of ${c.conditions.length} conditions`;
    case 'or': return `any of ${c.conditions.length} conditions`;
    case 'not': return `not: ${describe(c.condition)}`;
    case 'attribute': case 'event': case 'group': case 'message': case 'reachability': case 'segment': case 'topic':
      return describeLeaf(c);
  }
}

function describeLeaf(c: Leaf): string {
  switch (c.type) {
    case 'attribute': return describeTest(c.path, c);
    case 'group': return describeTest(`a related ${c.objectType}'s ${c.path}`, c);
    case 'event': {
      const where = c.where?.length ? ` where ${c.where.map((w) => describeTest(w.path, w)).join(' and ')}` : '';
      if (c.occurrence) return `${c.performed ? '' : 'not: '}the ${c.occurrence} "${c.name}"${where} happened${describeWindow(c.within)}`;
      const count = c.count ? ` ${c.count.op.replace('_', ' ')} ${c.count.value} time${c.count.value === 1 ? '' : 's'}` : '';
      return `${c.performed ? 'performed' : 'has not performed'} "${c.name}"${where}${count}${describeWindow(c.within)}`;
    }
    case 'segment': return `${c.member ? 'is' : 'is not'} in segment "${c.segment}"`;
    case 'topic': return `topic "${c.topic}" is ${c.state}`;
    case 'message': return `${c.performed ? '' : 'has not '}${c.performed ? c.activity : c.activity.replace(/ed$/, '')} ${c.template ? `template "${c.template}"` : 'any message'}${describeWindow(c.within)}`;
    case 'reachability': return `${c.negate ? 'not: ' : ''}${c.check.replaceAll('_', ' ')}`;
  }
}

interface Flat { path: string; cond: Condition; parent: number | null }

function flatten(c: Condition, path: string, parent: number | null, out: Flat[]): void {
  const i = out.length;
  out.push({ path, cond: c, parent });
  if (c.type === 'and' || c.type === 'or') c.conditions.forEach((x, k) => flatten(x, `${path}.conditions[${k}]`, i, out));
  if (c.type === 'not') flatten(c.condition, `${path}.condition`, i, out);
}

/** What to show beside a leaf's result: an SQL expression giving text, or undefined. */
function foundExpr(c: Condition, ctx: CompileContext): RawBuilder<unknown> | undefined {
  const ws = ctx.workspaceId;
  switch (c.type) {
    case 'attribute': return sql`coalesce((${personValue(c.path)})::text, 'no value')`;
    case 'event': {
      const { from, to } = windowBounds(c.within, ctx.now);
      const where = sql.join([
        sql`e.workspace_id = ${ws}`, sql`e.person_id = p.id`, sql`e.type = 'track'`, sql`e.name = ${c.name}`,
        ...(from && !c.occurrence ? [sql`e.timestamp >= ${from}::timestamptz`] : []),
        ...(to && !c.occurrence ? [sql`e.timestamp <= ${to}::timestamptz`] : []),
      ], sql` AND `);
      return sql`(SELECT count(*) || ' "' || ${c.name}::text || '" event(s)' || ${c.occurrence ? ' ever' : c.within ? ' in the window' : ''}::text
        || coalesce(', first ' || to_char(min(e.timestamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ', last ' || to_char(max(e.timestamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')
        || ${c.where?.length ? ' (before property filters)' : ''}::text
        FROM events e WHERE ${where})`;
    }
    case 'topic': {
      const t = ctx.refs.topics.get(c.topic);
      if (!t) return undefined;
      return sql`coalesce((SELECT s.state FROM topic_subscriptions s WHERE s.workspace_id = ${ws} AND s.person_id = p.id AND s.topic_id = ${t.id}),
        ${`no choice made (topic default: ${t.default === 'opt_out' ? 'subscribed' : 'unsubscribed'})`}::text)`;
    }
    case 'reachability': return sql`'email ' || coalesce(p.email, 'none') || ', phone ' || coalesce(p.phone, 'none')`;
    case 'and': case 'or': case 'not': case 'group': case 'message': case 'segment': return undefined;
  }
}

/** One query: every node's result and what was found, for one person. undefined: no such person. */
export async function explain(
  def: Condition, ctx: CompileContext,
  evaluate: (exprs: RawBuilder<unknown>[]) => Promise<unknown[] | undefined>,
): Promise<ExplainNode | undefined> {
  const flat: Flat[] = [];
  flatten(def, 'definition', null, flat);
  const exprs: RawBuilder<unknown>[] = [];
  const foundAt: Array<number | undefined> = [];
  for (const f of flat) exprs.push(compile(f.cond, ctx));
  for (const f of flat) {
    const e = foundExpr(f.cond, ctx);
    foundAt.push(e ? exprs.push(e) - 1 : undefined);
  }
  const values = await evaluate(exprs);
  if (!values) return undefined;
  const nodes: ExplainNode[] = flat.map((f, i) => {
    const at = foundAt[i];
    const found = at === undefined ? undefined : String(values[at]);
    return { path: f.path, type: f.cond.type, label: describe(f.cond), result: values[i] === true, ...(found !== undefined ? { found } : {}) };
  });
  flat.forEach((f, i) => {
    if (f.parent !== null) (nodes[f.parent]!.children ??= []).push(nodes[i]!);
  });
  return nodes[0];
}
