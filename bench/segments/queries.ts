// The five typical segments of the benchmark: each as a Tandem definition and as the SQL query an
// engineer would write by hand for the same question (the raw baseline). Hand-written queries take
// $1 = workspace id, $2 = now (the clock Tandem evaluates with), and answer one row: n. Windows are
// those of Tandem's definition language: "in the last N days" is timestamp >= now − N days.
import type { Condition } from '../../src/modules/segments/definition.ts';

export interface BenchSegment {
  key: string;
  name: string;
  definition: Condition;
  sql: string;
}

export const SEGMENTS: BenchSegment[] = [
  {
    key: 'power_users',
    name: 'a. power users: export ≥ 3 times in 7 days, never invited a teammate',
    definition: { type: 'and', conditions: [
      { type: 'event', name: 'feature_used', performed: true, where: [{ path: 'feature', op: 'equals', value: 'export' }],
        count: { op: 'at_least', value: 3 }, within: { last: 7, unit: 'days' } },
      { type: 'not', condition: { type: 'event', name: 'invited_teammate', performed: true } },
    ] },
    sql: `
      SELECT count(*) AS n FROM people p
      WHERE p.workspace_id = $1
        AND p.id IN (
          SELECT e.person_id FROM events e
          WHERE e.workspace_id = $1 AND e.type = 'track' AND e.name = 'feature_used'
            AND e.properties->>'feature' = 'export'
            AND e.timestamp >= $2::timestamptz - interval '7 days'
          GROUP BY e.person_id HAVING count(*) >= 3)
        AND NOT EXISTS (
          SELECT 1 FROM events i
          WHERE i.workspace_id = $1 AND i.type = 'track' AND i.name = 'invited_teammate' AND i.person_id = p.id)`,
  },
  {
    key: 'trial_ending',
    name: 'b. trial ending: plan = trial and trial_end in the next 3 days',
    definition: { type: 'and', conditions: [
      { type: 'attribute', path: 'plan', op: 'equals', value: 'trial' },
      { type: 'attribute', path: 'trial_end', op: 'within_next', amount: 3, unit: 'days' },
    ] },
    sql: `
      SELECT count(*) AS n FROM people p
      WHERE p.workspace_id = $1 AND p.attributes->>'plan' = 'trial'
        AND (p.attributes->>'trial_end')::timestamptz >= $2::timestamptz
        AND (p.attributes->>'trial_end')::timestamptz <= $2::timestamptz + interval '3 days'`,
  },
  {
    key: 'paying_na_reachable',
    name: 'c. paying in US/CA, email not suppressed',
    definition: { type: 'and', conditions: [
      { type: 'attribute', path: 'plan', op: 'in', values: ['pro', 'business'] },
      { type: 'attribute', path: 'country', op: 'in', values: ['US', 'CA'] },
      { type: 'reachability', check: 'email_not_suppressed', negate: false },
    ] },
    sql: `
      SELECT count(*) AS n FROM people p
      WHERE p.workspace_id = $1
        AND p.attributes->>'plan' IN ('pro', 'business') AND p.attributes->>'country' IN ('US', 'CA')
        AND p.email IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM suppressions s
          WHERE s.workspace_id = $1 AND s.channel = 'email' AND s.address = lower(p.email))`,
  },
  {
    key: 'churn_risk',
    name: 'd. churn risk: logged in once, not in 30 days, lifetime_value > 100',
    definition: { type: 'and', conditions: [
      { type: 'event', name: 'login', performed: true },
      { type: 'event', name: 'login', performed: false, within: { last: 30, unit: 'days' } },
      { type: 'attribute', path: 'lifetime_value', op: 'gt', value: 100 },
    ] },
    sql: `
      SELECT count(*) AS n FROM people p
      JOIN (SELECT e.person_id FROM events e
            WHERE e.workspace_id = $1 AND e.type = 'track' AND e.name = 'login'
            GROUP BY e.person_id
            HAVING max(e.timestamp) < $2::timestamptz - interval '30 days') l ON l.person_id = p.id
      WHERE p.workspace_id = $1 AND (p.attributes->>'lifetime_value')::numeric > 100`,
  },
  {
    key: 'new_buyers',
    name: 'e. new buyers: first purchase in 14 days, or opened a message in 7 days and came from ads',
    definition: { type: 'or', conditions: [
      { type: 'event', name: 'purchase', performed: true, occurrence: 'first', within: { last: 14, unit: 'days' } },
      { type: 'and', conditions: [
        { type: 'message', activity: 'opened', performed: true, within: { last: 7, unit: 'days' } },
        { type: 'attribute', path: 'signup_source', op: 'equals', value: 'ads' },
      ] },
    ] },
    sql: `
      SELECT count(*) AS n FROM people p
      WHERE p.workspace_id = $1 AND (
        p.id IN (
          SELECT e.person_id FROM events e
          WHERE e.workspace_id = $1 AND e.type = 'track' AND e.name = 'purchase'
          GROUP BY e.person_id
          HAVING min(e.timestamp) >= $2::timestamptz - interval '14 days')
        OR (p.attributes->>'signup_source' = 'ads' AND p.id IN (
          SELECT m.person_id FROM message_events me
          JOIN messages m ON m.workspace_id = me.workspace_id AND m.id = me.message_id
          WHERE me.workspace_id = $1 AND me.type = 'opened'
            AND me.at >= $2::timestamptz - interval '7 days')))`,
  },
];
