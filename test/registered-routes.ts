// Every route Fastify knows, recovered from printRoutes({ commonPrefix: false }), so tests can
// compare it with the OpenAPI document and walk routes other modules add later.
import type { FastifyInstance } from 'fastify';

export interface RegisteredRoute {
  method: string;
  /** Fastify form: /api/people/:id (first name when a position has several). */
  path: string;
}

const LINE = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\).*)?$/;

/** One line per leaf: "<indent>├── <fragment relative to the parent leaf> (GET, HEAD)". */
export function registeredRoutes(app: Pick<FastifyInstance, 'printRoutes'>): RegisteredRoute[] {
  const stack: string[] = [];
  const out: RegisteredRoute[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue; // blank, or a constraint variant continuing the line above
    const depth = (m[1] ?? '').length / 4;
    const fragment = (m[2] ?? '').replace(/:([A-Za-z0-9_]+)(?:\([^)]*\))?(?:\|:[A-Za-z0-9_]+(?:\([^)]*\))?)*/g, ':$1');
    stack.length = depth;
    const full = (depth > 0 ? stack[depth - 1] ?? '' : '') + fragment;
    stack.push(full);
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      out.push({ method, path: full });
    }
  }
  return out;
}

/** '/api/people/:id' and '/api/people/{id}' both become '/api/people/{}'. */
export function templateOf(path: string): string {
  return path.replace(/:[A-Za-z0-9_]+/g, '{}').replace(/\{[^}]*\}/g, '{}');
}
