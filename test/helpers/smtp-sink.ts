// A real SMTP server (smtp-server) that keeps every message it accepts, raw and parsed by mailparser.
// `reject` lets a test answer chosen recipients with an SMTP error.
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  raw: Buffer;
  parsed: ParsedMail;
  from: string;
  to: string[];
  at: number;
}

export interface SmtpSink {
  url: string;
  port: number;
  received: Received[];
  /** Resolves when at least `n` messages arrived (or throws after `ms`). */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  /** The first message to `to`, once it arrived (or throws after `ms`). */
  mailTo(to: string, ms?: number): Promise<Received>;
  /** Connections that were opened (a pooled sender reuses a few). */
  connections: number;
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { reject?: (rcpt: string) => { code: number; message: string } | undefined } = {}): Promise<SmtpSink> {
  const received: Received[] = [];
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onRcptTo(address, _session, cb) {
      const verdict = opts.reject?.(address.address);
      if (verdict) return cb(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void simpleParser(raw).then((parsed) => {
          received.push({
            raw, parsed, at: Date.now(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          cb();
        }, (err: Error) => cb(err));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    port, received,
    get connections() { return connections; },
    async waitFor(n, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`the sink got ${received.length} of ${n} messages`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
    async mailTo(to, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = received.find((m) => m.to.includes(to));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no mail to ${to}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
