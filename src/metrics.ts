// Prometheus metrics. One registry per Tandem instance (tests build several in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the render pool reports when /metrics is read (src/modules/content/render/pool.ts). */
export interface RenderPoolGauge { size: number; threads: number; busy: number; queued: number }

/** Jobs in graphile-worker's queue by task and state, read at scrape time (src/worker/queue-depth.ts). */
export type QueueDepthReader = () => Promise<Array<{ task: string; state: 'waiting' | 'scheduled' | 'running'; count: number }>>;

export function createMetrics(opts: { queueDepth?: QueueDepthReader } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let renderPool: () => RenderPoolGauge = () => ({ size: 0, threads: 0, busy: 0, queued: 0 });
  return {
    registry,
    /** The render pool to report on (set once the renderer exists). */
    watchRenderPool(stats: () => RenderPoolGauge): void {
      renderPool = stats;
    },
    renders: new Counter({
      name: 'tandem_renders_total',
      help: 'Template compiles and renders (op: compile, render, texts) by outcome: ok, deadline, render_limit, syntax, too_large, render_error, mjml_invalid, partial_not_found, unavailable.',
      labelNames: ['op', 'outcome'] as const,
      registers: [registry],
    }),
    renderDuration: new Histogram({
      name: 'tandem_render_duration_seconds',
      help: 'Time of one compile or render in the render threads, the wait for a free thread included.',
      labelNames: ['op'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    renderPool: new Gauge({
      name: 'tandem_render_pool',
      help: 'Render threads: size (most threads), threads (running), busy (rendering), queued (requests waiting for a thread).',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const s = renderPool();
        for (const state of ['size', 'threads', 'busy', 'queued'] as const) this.set({ state }, s[state]);
      },
    }),
    renderPoolUtilisation: new Gauge({
      name: 'tandem_render_pool_utilisation',
      help: 'Busy render threads over the pool size (0 to 1), when /metrics was read.',
      registers: [registry],
      collect() {
        const s = renderPool();
        this.set(s.size > 0 ? s.busy / s.size : 0);
      },
    }),
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
    // Sends: every attempt's outcome, and how long the attempt took (render, consent check, provider).
    messages: new Counter({
      name: 'tandem_messages_total',
      help: 'Send attempts by channel and outcome (sent, failed, suppressed, retrying).',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    sendDuration: new Histogram({
      name: 'tandem_send_duration_seconds',
      help: 'One send attempt, from render to the provider\'s answer, by channel.',
      labelNames: ['channel'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    // Jobs (graphile-worker): queue depth at scrape time, the wait from due to start, and run time.
    queueJobs: new Gauge({
      name: 'tandem_queue_jobs',
      help: 'Jobs in the queue by task and state: waiting (due, not taken), scheduled (due later), running (locked).',
      labelNames: ['task', 'state'] as const,
      registers: [registry],
      async collect() {
        if (!opts.queueDepth) return;
        const rows = await opts.queueDepth();
        this.reset();
        for (const r of rows) this.set({ task: r.task, state: r.state }, r.count);
      },
    }),
    jobWait: new Histogram({
      name: 'tandem_job_wait_seconds',
      help: 'Time from when a job was due to when a worker started it, by task.',
      labelNames: ['task'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'tandem_job_duration_seconds',
      help: 'Job run time by task and outcome (success, error).',
      labelNames: ['task', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    }),
    // Segment membership: the dirty-queue drains.
    segmentDrains: new Counter({
      name: 'tandem_segment_drains_total',
      help: 'Drains of the segment dirty queue run.',
      registers: [registry],
    }),
    segmentDrainPeople: new Counter({
      name: 'tandem_segment_drain_people_total',
      help: 'People re-evaluated by segment drains.',
      registers: [registry],
    }),
    segmentDrainDuration: new Histogram({
      name: 'tandem_segment_drain_duration_seconds',
      help: 'Time one segment drain took.',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
