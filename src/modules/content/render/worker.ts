// A render thread: compiles and renders on request, one request at a time, and keeps its own cache
// of compiled versions (the main thread resends a source when this thread answers `missing`).
// Everything thrown becomes a stable template error; nothing thrown here can stop the thread except
// what the pool itself ends (the deadline, the heap limit).
import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { AppError } from '../../../errors.ts';
import { compileTemplate, compileTexts, renderCompiled, renderTexts, type EngineTemplate, type EngineTexts } from './engine.ts';
import { toTemplateError } from './errors.ts';
import { Lru } from './lru.ts';
import type { RenderReply, RenderRequest, RenderValue, ThreadMessage } from './protocol.ts';

const CACHE_SIZE = 500;
const templates = new Lru<string, EngineTemplate>(CACHE_SIZE);
const texts = new Lru<string, EngineTexts>(CACHE_SIZE);

type Outcome = { value: RenderValue; compiled: boolean } | 'missing';

async function handle(req: RenderRequest, rendering: () => void): Promise<Outcome> {
  switch (req.op) {
    case 'compile': {
      const t = await compileTemplate({ ...req.source, key: req.key }, req.limits);
      templates.set(req.key, t);
      return { value: { op: 'compile', html: t.html, warnings: [...t.warnings] }, compiled: true };
    }
    case 'render': {
      let t = templates.get(req.key);
      let compiled = false;
      if (!t) {
        if (!req.source || !req.limits) return 'missing';
        t = await compileTemplate({ ...req.source, key: req.key }, req.limits);
        templates.set(req.key, t);
        compiled = true;
        rendering();
      }
      return { value: { op: 'render', result: renderCompiled(t, req.data) }, compiled };
    }
    case 'texts': {
      let t = texts.get(req.key);
      let compiled = false;
      if (!t) {
        if (!req.parts || !req.limits) return 'missing';
        t = compileTexts(req.key, req.parts, req.partials, req.limits);
        texts.set(req.key, t);
        compiled = true;
        rendering();
      }
      return { value: { op: 'texts', result: renderTexts(t, req.data) }, compiled };
    }
  }
}

function serialize(err: unknown): AppError {
  // A stack overflow (deep nesting in MJML, the HTML parser or Liquid), LiquidJS errors, anything else.
  return err instanceof AppError ? err : toTemplateError(err, 'body');
}

/** This thread's Linux thread id, for the pool's CPU-time deadline (undefined elsewhere). */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

const port = parentPort;
if (port) {
  port.on('message', (msg: { id: number; req: RenderRequest }) => {
    void (async () => {
      let reply: RenderReply;
      try {
        const out = await handle(msg.req, () => port.postMessage({ id: msg.id, rendering: true } satisfies ThreadMessage));
        reply = out === 'missing' ? { id: msg.id, ok: false, missing: true } : { id: msg.id, ok: true, ...out };
      } catch (err) {
        const e = serialize(err);
        reply = { id: msg.id, ok: false, error: { code: e.code, message: e.message, details: e.details } };
      }
      try {
        port.postMessage(reply satisfies ThreadMessage);
      } catch (err) {
        // A result that cannot be cloned (it should not happen: strings and plain objects only).
        const e = serialize(err);
        port.postMessage({ id: msg.id, ok: false, error: { code: e.code, message: e.message, details: e.details } } satisfies ThreadMessage);
      }
    })();
  });
  port.postMessage({ ready: true, tid: threadId() } satisfies ThreadMessage);
}
