export { createContentService, type ContentService, type ResourcePage } from './service.ts';
export { registerContentResourceRoutes } from './routes.ts';
export {
  RESOURCE_KINDS, KIND_PATH, BODY_SCHEMAS,
  type ResourceKind, type ContentResource, type ContentResourceDetail, type ContentVersion,
  type LayoutBody, type ComponentBody, type SnippetBody, type TemplateBody, type BodyOf,
} from './types.ts';
