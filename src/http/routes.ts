import type { Services } from '../services.ts';
import { registerModuleRoutes } from '../modules/registry.ts';
import type { TandemApp } from './types.ts';

export function registerRoutes(app: TandemApp, services: Services): void {
  registerModuleRoutes(app, services);
}
