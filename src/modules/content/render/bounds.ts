// Bounds inside one Liquid render that LiquidJS's own limits leave open. Its memory limit is a total
// budget charged per allocation (a range charges its length, `append` the string's), and its time
// limit is checked between template nodes, so one filter call runs to the end: `(1..8000000) | sort`
// passes a 16 M budget and then sorts for seconds. Here:
// - one allocation (a range, a string a filter builds) may not exceed `allocation` units, so
//   `(1..8000000)` is refused when the range is created, before any array exists;
// - the array filters refuse an input (or an argument) longer than `arrayItems` before doing any
//   work, so sort, sort_natural, uniq, map, where… stay in the milliseconds.
import type { Liquid } from 'liquidjs';
import { RenderLimitError } from './errors.ts';

/** The shape of LiquidJS's Limiter, which `Context` calls for memory (`use`) and time (`check`). */
export interface LimiterLike {
  use(count: number): void;
  check(count: number): void;
}

/** A memory limiter for one render: the total budget, plus a bound on any single allocation. */
export function boundedMemory(total: number, allocation: number): LimiterLike {
  let used = 0;
  return {
    use(count: number) {
      const n = +count;
      if (!(n > 0)) return;
      if (n > allocation) {
        throw new RenderLimitError('memory', `memory alloc limit exceeded: one range or value of ${Math.min(n, 1e15)} items, over ${allocation}`);
      }
      if (used + n > total) throw new RenderLimitError('memory', 'memory alloc limit exceeded');
      used += n;
    },
    check(count: number) {
      if (+count > total) throw new RenderLimitError('memory', 'memory alloc limit exceeded');
    },
  };
}

/** Filters whose work grows with an array argument (LiquidJS 10's array filters, plus join and sum). */
export const ARRAY_FILTERS = [
  'sort', 'sort_natural', 'uniq', 'map', 'sum', 'compact', 'concat', 'push', 'pop', 'shift', 'unshift', 'reverse',
  'join', 'where', 'reject', 'where_exp', 'reject_exp', 'group_by', 'group_by_exp', 'find', 'find_exp',
  'find_index', 'find_index_exp', 'has', 'has_exp', 'sample', 'slice',
] as const;

function tooLong(value: unknown, max: number): number | undefined {
  if (Array.isArray(value) && value.length > max) return value.length;
  return undefined;
}

type FilterFn = (this: unknown, value: unknown, ...args: unknown[]) => unknown;

/** Wrap every array filter so that it refuses arrays over `max` items before it starts. */
export function boundArrayFilters(engine: Liquid, max: number): void {
  for (const name of ARRAY_FILTERS) {
    const impl = engine.filters[name] as FilterFn | undefined;
    if (!impl) continue;
    engine.registerFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      for (const v of [value, ...args]) {
        const n = tooLong(v, max);
        if (n !== undefined) throw new RenderLimitError('array', `${name} given an array of ${n} items, over ${max}`);
      }
      // Generator filters (sort, map, where…) return their iterator; LiquidJS drives it as before.
      return impl.call(this, value, ...args);
    });
  }
}
