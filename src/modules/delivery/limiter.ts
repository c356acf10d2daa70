// Per-sender rate and concurrency in this process: a token bucket (messages per second) and a cap on
// messages in flight; a provider's 429 (or SMTP 421/45x) pauses the sender for the time it asked.
import type { Clock } from '../../clock.ts';

interface State {
  tokens: number;
  last: number;
  inFlight: number;
  waiting: Array<() => void>;
  pausedUntil: number;
}

export class SenderLimiter {
  private readonly senders = new Map<string, State>();
  constructor(private readonly clock: Clock) {}

  private state(id: string, rate: number): State {
    let s = this.senders.get(id);
    if (!s) {
      s = { tokens: Number.isFinite(rate) ? Math.max(1, rate) : 0, last: this.clock.now().getTime(), inFlight: 0, waiting: [], pausedUntil: 0 };
      this.senders.set(id, s);
    }
    return s;
  }

  /** Runs `fn` when the sender has a free slot and a token. */
  async run<T>(id: string, limits: { rate: number; concurrency: number }, fn: () => Promise<T>): Promise<T> {
    const s = this.state(id, limits.rate);
    while (s.inFlight >= limits.concurrency) await new Promise<void>((resolve) => s.waiting.push(resolve));
    s.inFlight++;
    try {
      await this.take(s, limits.rate);
      return await fn();
    } finally {
      s.inFlight--;
      s.waiting.shift()?.();
    }
  }

  /** The sender was told to slow down: nothing goes out for `ms`. */
  slowDown(id: string, ms: number): void {
    const s = this.state(id, Number.POSITIVE_INFINITY);
    s.pausedUntil = Math.max(s.pausedUntil, this.clock.now().getTime() + ms);
  }

  private async take(s: State, rate: number): Promise<void> {
    for (;;) {
      const now = this.clock.now().getTime();
      if (now < s.pausedUntil) {
        await sleep(Math.min(s.pausedUntil - now, 1000));
        continue;
      }
      if (!Number.isFinite(rate)) return;
      s.tokens = Math.min(Math.max(1, rate), s.tokens + ((now - s.last) / 1000) * rate);
      s.last = now;
      if (s.tokens >= 1) {
        s.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - s.tokens) / rate) * 1000));
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
