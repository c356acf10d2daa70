// A lean SMTP sink (smtp-server) for volume: it keeps no bodies and parses nothing but the header
// block, counting each message by its X-Tandem-Message-Id and each recipient, with the arrival time.
// For reliability tests and the send benchmark, where mailparser on every message would cost more
// CPU than the system under test. `reject` answers chosen recipients with an SMTP error.
import { SMTPServer } from 'smtp-server';

export interface CountingSink {
  url: string;
  port: number;
  /** Messages accepted (every copy). */
  readonly total: number;
  /** Copies per X-Tandem-Message-Id. */
  byMessage: Map<string, number>;
  /** Copies per envelope recipient. */
  byRecipient: Map<string, number>;
  /** Arrival time (Date.now()) of the first copy of each X-Tandem-Message-Id. */
  firstAt: Map<string, number>;
  /** RCPT TO refused by `reject`. */
  readonly rejected: number;
  readonly connections: number;
  /** Resolves when `n` distinct messages arrived (or throws after `ms`). */
  waitForDistinct(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

const HEADER = /^x-tandem-message-id:[ \t]*(\S+)/im;

export async function startCountingSink(opts: { reject?: (rcpt: string) => { code: number; message: string } | undefined } = {}): Promise<CountingSink> {
  const byMessage = new Map<string, number>();
  const byRecipient = new Map<string, number>();
  const firstAt = new Map<string, number>();
  let total = 0;
  let rejected = 0;
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 1000,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onRcptTo(address, _session, cb) {
      const verdict = opts.reject?.(address.address);
      if (verdict) {
        rejected++;
        return cb(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
      }
      cb();
    },
    onData(stream, session, cb) {
      let head = '';
      let inHead = true;
      stream.on('data', (c: Buffer) => {
        if (!inHead) return;
        head += c.toString('latin1');
        const end = head.search(/\r?\n\r?\n/);
        if (end >= 0) {
          head = head.slice(0, end);
          inHead = false;
        }
      });
      stream.on('end', () => {
        const at = Date.now();
        total++;
        const id = HEADER.exec(head)?.[1] ?? '';
        byMessage.set(id, (byMessage.get(id) ?? 0) + 1);
        if (!firstAt.has(id)) firstAt.set(id, at);
        for (const r of session.envelope.rcptTo) byRecipient.set(r.address, (byRecipient.get(r.address) ?? 0) + 1);
        cb();
      });
    },
  });
  // A sender killed mid-conversation resets its connection: expected here, not a failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    port, byMessage, byRecipient, firstAt,
    get total() { return total; },
    get rejected() { return rejected; },
    get connections() { return connections; },
    async waitForDistinct(n, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (byMessage.size < n) {
        if (Date.now() > deadline) throw new Error(`the sink got ${byMessage.size} of ${n} distinct messages`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
