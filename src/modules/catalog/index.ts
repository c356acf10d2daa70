export { createCatalogService, type CatalogService, type EventType, type CatalogProperty, type CatalogTypeChange } from './service.ts';
export { registerCatalogRoutes } from './routes.ts';
export { inferType, flattenProperties, catalogName, type DataType } from './infer.ts';
