// GET /api/events/stream: server-sent events of the caller's workspace, for the live event debugger.
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { TandemApp } from '../../http/types.ts';
import type { EventStream, LiveEvent } from './stream.ts';

// The stream's public surface, re-exported so that index.ts needs one line for it.
export { createEventStream, EVENTS_CHANNEL, type EventStream, type LiveEvent, type SubscribeOptions } from './stream.ts';

const HEARTBEAT_MS = 15_000;
/** A client this far behind (bytes buffered for it) misses events until it catches up. */
const MAX_BUFFERED_BYTES = 1 << 20;

const eventId = z.string().regex(/^\d{1,18}$/, 'an event id');

export function registerEventStreamRoutes(app: TandemApp, stream: EventStream, opts: { heartbeatMs?: number } = {}): void {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const open = new Set<ServerResponse>();

  // Open streams would keep the server from closing: end them first, then stop listening.
  app.addHook('preClose', (done) => {
    for (const res of open) res.end();
    open.clear();
    done();
  });
  app.addHook('onClose', async () => { await stream.close(); });

  app.get('/api/events/stream', {
    preHandler: app.auth.appKey,
    config: { dialect: 'tandem' },
    schema: {
      tags: ['events'],
      summary: 'Live events of the workspace (text/event-stream)',
      description: 'Server-sent events: each stored event as `event: event`, `id: <event id>`, `data: <JSON>`, and a '
        + '`: heartbeat` comment every 15 s. A `: ready` comment says the subscription is live. Send `Last-Event-ID` '
        + '(or `?lastEventId=`) to replay up to 500 events after that id first. Optional filters `type` and `name`. '
        + 'A client that reads too slowly misses events.',
      querystring: z.object({
        type: z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']).optional(),
        name: z.string().min(1).max(500).optional(),
        lastEventId: eventId.optional(),
      }),
      headers: z.object({ 'last-event-id': eventId.optional() }),
      produces: ['text/event-stream'],
      response: { 200: z.string().describe('A stream of `event: event` frames whose `data` is the event as JSON') },
    },
  }, async (req, reply) => {
    const lastEventId = req.headers['last-event-id'] ?? req.query.lastEventId;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    open.add(res);

    let dropped = 0;
    const send = (e: LiveEvent): void => {
      if (res.writableEnded || res.destroyed) return;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        res.write(`: ${dropped} events dropped, the client read too slowly\n\n`);
        dropped = 0;
      }
      res.write(`id: ${e.id}\nevent: event\ndata: ${JSON.stringify(e)}\n\n`);
    };

    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': heartbeat\n\n');
    }, heartbeatMs);
    let unsubscribe: (() => void) | undefined;
    let gone = false;
    res.on('close', () => {
      gone = true;
      clearInterval(heartbeat);
      open.delete(res);
      unsubscribe?.();
    });

    try {
      const off = await stream.subscribe(req.workspaceId, { lastEventId, type: req.query.type, name: req.query.name, onEvent: send });
      if (gone) off();
      else {
        unsubscribe = off;
        // Every event committed from here on is delivered (the replay, if any, came before).
        res.write(': ready\n\n');
      }
    } catch (err) {
      req.log.error({ err }, 'live stream subscribe failed');
      if (!res.writableEnded) {
        res.end(`event: error\ndata: ${JSON.stringify({ code: 'internal', message: 'The live stream is unavailable.' })}\n\n`);
      }
    }
  });
}
