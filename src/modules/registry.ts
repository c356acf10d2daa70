// The list of domain modules: their services, HTTP routes and worker tasks, in one place.
// Add a module here (service, routes, tasks); keep each entry one line.
import type { TaskList } from 'graphile-worker';
import type { Deps, Services } from '../services.ts';
import type { TandemApp } from '../http/types.ts';
import { createEventsService, type EventsService } from './events/index.ts';
import { createEventStream, registerEventStreamRoutes, type EventStream } from './events/index.ts';
import { createCatalogService, registerCatalogRoutes, type CatalogService } from './catalog/index.ts';
import { createIngestService, type IngestService } from './ingest/index.ts';
import { createPeopleService, type PeopleService } from './people/index.ts';
import { createPeopleQueryService, registerPeopleRoutes, type PeopleQueryService } from './people/index.ts';
import { registerSegmentRoutes } from './segment/index.ts';
import { registerCustomerioRoutes } from './customerio/index.ts';
import { createContentService, registerContentResourceRoutes, type ContentService } from './content/index.ts';
import { createLinkCheckService, registerLinkCheckRoutes, Renderer, type LinkCheckService } from './content/index.ts';
import { createOutboundClient } from '../net/index.ts';
import { createAssetService, registerAssetRoutes, type AssetService } from './assets/index.ts';
import { createTemplateRenderService, createPreviewService, registerTemplateRoutes, type TemplateRenderService, type PreviewService } from './content/index.ts';
import { buildKnownNames, createTemplateLinter, type TemplateLinter } from './content/index.ts';
import { createDevInboxService, registerDevInboxRoutes, type DevInboxService } from './devinbox/index.ts';
import type { WorkspaceService } from './workspaces/index.ts';
import { createSigningService, type SigningService } from './signing/index.ts';
import { createDeliveryService, createDomainService, createMessageComposer, createTransactionalService, registerDeliveryRoutes } from './delivery/index.ts';
import { createInboundService, createSenderService, registerSenderRoutes, type InboundService, type SenderService } from './delivery/index.ts';
import type { DeliveryService, DomainService, TransactionalService } from './delivery/index.ts';
import { createWebhookService, registerWebhookRoutes, type WebhookService } from './webhooks/index.ts';
import { createSalesforceService, registerSalesforceRoutes, type SalesforceService } from './salesforce/index.ts';
import { createConsentService, registerConsentRoutes, type ConsentService } from './consent/index.ts';
import { createTrackingService, registerTrackingRoutes, type TrackingService } from './tracking/index.ts';
import { createImportService, registerImportRoutes, type ImportService } from './imports/index.ts';
import { createSegmentsService, registerSegmentsRoutes, type SegmentsService } from './segments/index.ts';

export interface ModuleServices {
  people: PeopleService;
  peopleQuery: PeopleQueryService;
  events: EventsService;
  ingest: IngestService;
  catalog: CatalogService;
  eventStream: EventStream;
  content: ContentService;
  linkChecks: LinkCheckService;
  assets: AssetService;
  renderer: Renderer;
  templates: TemplateRenderService;
  previews: PreviewService;
  devInbox: DevInboxService;
  linter: TemplateLinter;
  signing: SigningService;
  webhooks: WebhookService;
  salesforce: SalesforceService;
  consent: ConsentService;
  tracking: TrackingService;
  domains: DomainService;
  delivery: DeliveryService;
  transactional: TransactionalService;
  senders: SenderService;
  inbound: InboundService;
  imports: ImportService;
  segments: SegmentsService;
}

export function createModuleServices(deps: Deps, base: { workspaces: WorkspaceService }): ModuleServices {
  const people = createPeopleService({ db: deps.db, clock: deps.clock });
  const events = createEventsService({ db: deps.db, clock: deps.clock, dedupeDays: deps.config.dedupeDays });
  const ingest = createIngestService({ db: deps.db, clock: deps.clock, log: deps.log, people, events, observers: [] });
  const peopleQuery = createPeopleQueryService({ db: deps.db, clock: deps.clock });
  const catalog = createCatalogService({ db: deps.db, clock: deps.clock, log: deps.log, limits: { maxEventTypes: deps.config.catalogMaxEventTypes, maxProperties: deps.config.catalogMaxProperties } });
  ingest.observe(catalog);
  const segments = createSegmentsService({ db: deps.db, clock: deps.clock, log: deps.log.child({ module: 'segments' }), tickSeconds: deps.config.segmentTickSeconds, cacheMs: deps.config.segmentCacheMs, catalog, metrics: deps.metrics });
  ingest.observe(segments.membership.observer);
  const eventStream = createEventStream({ db: deps.db, pool: deps.pool, log: deps.log });
  const content = createContentService({ db: deps.db, clock: deps.clock });
  const signing = createSigningService({ db: deps.db, config: deps.config });
  base.workspaces.onCreated((tx, workspaceId) => content.installStarterKit(tx, workspaceId));
  const renderer = new Renderer({
    threads: deps.config.renderThreads,
    observer: (op, outcome, seconds) => {
      deps.metrics.renders.inc({ op, outcome });
      deps.metrics.renderDuration.observe({ op }, seconds);
    },
  });
  deps.metrics.watchRenderPool(() => renderer.poolStats());
  const devInbox = createDevInboxService({ db: deps.db, clock: deps.clock, signing, config: deps.config });
  const templates = createTemplateRenderService({ db: deps.db, renderer, workspaces: base.workspaces, devInbox, config: deps.config });
  content.onChange((workspaceId) => templates.forget(workspaceId));
  const previews = createPreviewService({ db: deps.db, templates, content, peopleQuery, config: deps.config });
  const domains = createDomainService({ db: deps.db, clock: deps.clock });
  const composer = createMessageComposer({ templates, renderer, config: deps.config, workspaces: base.workspaces });
  const senders = createSenderService({ db: deps.db, clock: deps.clock, allowPrivate: deps.config.outboundAllowPrivate, ...(deps.providerDeps ? { providerDeps: deps.providerDeps } : {}) });
  const delivery = createDeliveryService({ db: deps.db, clock: deps.clock, log: deps.log, config: deps.config, composer, domains, peopleQuery, devInbox, senders, workspaces: base.workspaces, metrics: deps.metrics });
  const transactional = createTransactionalService({ db: deps.db, clock: deps.clock, delivery, content, peopleQuery });
  const linter = createTemplateLinter({ loader: templates.loader, renderer, config: deps.config, knownNames: async (ws) => buildKnownNames(await catalog.list(ws)) });
  const linkChecks = createLinkCheckService({ db: deps.db, clock: deps.clock, log: deps.log, outbound: createOutboundClient({ allowPrivate: deps.config.outboundAllowPrivate }), htmlOf: (ws, id) => templates.compiledHtml(ws, id), hostedAssetPrefixes: [`${deps.config.publicUrl}/assets/`] });
  const assets = createAssetService({ db: deps.db, clock: deps.clock, log: deps.log, config: deps.config, usage: (ws, needle) => content.findReferences(ws, needle) });
  const webhooks = createWebhookService({ db: deps.db, clock: deps.clock, log: deps.log, allowPrivate: deps.config.outboundAllowPrivate, outbound: createOutboundClient({ allowPrivate: deps.config.outboundAllowPrivate, timeoutMs: 10_000 }) });
  const salesforce = createSalesforceService({ db: deps.db, clock: deps.clock, log: deps.log, allowPrivate: deps.config.outboundAllowPrivate, outbound: createOutboundClient({ allowPrivate: deps.config.outboundAllowPrivate }) });
  const inbound = createInboundService({
    db: deps.db, clock: deps.clock, suppressor: () => consent, record: (ws, m, type, status, data) => delivery.recordEvent(ws, m, type, status, data),
    pause: (ws, id, reason) => senders.setStatus(ws, id, 'paused', reason),
  });
  const consent = createConsentService({ db: deps.db, clock: deps.clock, config: deps.config, signing, people, peopleQuery, workspaces: base.workspaces });
  const imports = createImportService({ db: deps.db, clock: deps.clock, log: deps.log.child({ module: 'imports' }), consent });
  const tracking = createTrackingService({ db: deps.db, clock: deps.clock, log: deps.log, config: deps.config, signing, delivery, content });
  return { people, events, ingest, peopleQuery, catalog, eventStream, content, linkChecks, assets, renderer, templates, previews, devInbox, linter, signing, webhooks, salesforce, consent, domains, delivery, transactional, senders, inbound, tracking, segments, imports };
}

export function registerModuleRoutes(app: TandemApp, services: Services): void {
  registerSegmentRoutes(app, services);
  registerCustomerioRoutes(app, services);
  registerPeopleRoutes(app, { query: services.peopleQuery, people: services.people });
  registerCatalogRoutes(app, services.catalog);
  registerEventStreamRoutes(app, services.eventStream);
  registerContentResourceRoutes(app, services.content, { lint: (ws, id, version) => services.linter.lint(ws, id, version) });
  registerTemplateRoutes(app, { templates: services.templates, previews: services.previews, linter: services.linter });
  registerDevInboxRoutes(app, services.devInbox);
  registerDeliveryRoutes(app, { delivery: services.delivery, transactional: services.transactional, domains: services.domains });
  registerSenderRoutes(app, { senders: services.senders, inbound: services.inbound, clock: services.clock, findSender: (id) => services.senders.findAnywhere(id) });
  registerLinkCheckRoutes(app, services.linkChecks);
  registerAssetRoutes(app, services.assets, { maxBytes: services.config.assetMaxBytes });
  registerWebhookRoutes(app, services.webhooks);
  registerSalesforceRoutes(app, services.salesforce);
  registerConsentRoutes(app, { consent: services.consent, peopleQuery: services.peopleQuery });
  registerTrackingRoutes(app, services.tracking);
  registerImportRoutes(app, services.imports);
  registerSegmentsRoutes(app, { segments: services.segments, peopleQuery: services.peopleQuery });
}

export function moduleTasks(services: Services): TaskList {
  return { ...services.events.tasks(), ...services.linkChecks.tasks(), ...services.webhooks.tasks(), ...services.salesforce.tasks(), ...services.delivery.tasks(), ...services.segments.tasks() };
}

/** What a worker process runs beside its jobs (listeners that queue jobs); each is stopped with the worker. */
export function moduleListeners(services: Services): Array<{ stop(): Promise<void> }> {
  return [services.segments.listen(services.pool)];
}

/** graphile-worker crontab lines for periodic jobs. */
export const moduleCrontab: string[] = [
  '17 * * * * events:purge_dedupe',
  '41 3 * * * content:check_all_links',
  '23 4 * * * webhooks:purge',
  '29 * * * * delivery:purge_idempotency',
  '37 2 * * * delivery:purge_content',
  '* * * * * segments:tick',
];
