// Customer.io compatibility: the Track API (v1 and v2) and the App API's people reads, drop-in for
// the official client libraries. Routes live in their own Fastify scope so that an empty JSON body
// (customerio-node sends DELETE with Content-Type: application/json and no body) is accepted.
import { guardedJsonParser } from '../../http/input-guard.ts';
import type { TandemApp } from '../../http/types.ts';
import type { Services } from '../../services.ts';
import { registerAppRoutes } from './app-routes.ts';
import { createCustomerioRepo } from './repo.ts';
import { createCustomerioService } from './service.ts';
import { registerTrackRoutes } from './track-routes.ts';

export { createCustomerioService, type CustomerioService } from './service.ts';

export type CustomerioServices = Pick<Services, 'db' | 'clock' | 'metrics' | 'ingest' | 'people' | 'peopleQuery'>;

export function registerCustomerioRoutes(app: TandemApp, services: CustomerioServices): void {
  const service = createCustomerioService(services);
  const repo = createCustomerioRepo(services.db);
  void app.register((instance, _opts, done) => {
    const scope = instance as unknown as TandemApp;
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, guardedJsonParser(scope, true));
    registerTrackRoutes(scope, { service, metrics: services.metrics });
    registerAppRoutes(scope, { peopleQuery: services.peopleQuery, repo });
    done();
  });
}
/** Every v2 action the parser accepts (the isolation walker sends each one). */
export { PERSON_ACTIONS, OBJECT_ACTIONS } from './v2.ts';
