// Prometheus metrics. One registry per Tandem instance (tests build several in one process).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    ingestEvents: new Counter({
      name: 'tandem_ingest_events_total',
      help: 'Events received by ingest, by source and outcome (stored, duplicate, suppressed).',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    ingestRequests: new Counter({
      name: 'tandem_ingest_requests_total',
      help: 'Ingest HTTP requests by source and status class.',
      labelNames: ['source', 'status'] as const,
      registers: [registry],
    }),
    ingestDuration: new Histogram({
      name: 'tandem_ingest_duration_seconds',
      help: 'Time to commit one ingest request (a single call or a whole batch).',
      labelNames: ['source'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'tandem_http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
