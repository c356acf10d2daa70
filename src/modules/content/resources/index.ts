export { createContentService, type ContentService, type ResourcePage } from './service.ts';
export { registerContentResourceRoutes, lintView, type LintView, type LintHook } from './routes.ts';
export {
  RESOURCE_KINDS, KIND_PATH, BODY_SCHEMAS,
  type ResourceKind, type ContentResource, type ContentResourceDetail, type ContentVersion,
  type LayoutBody, type ComponentBody, type SnippetBody, type TemplateBody, type BodyOf, type EmailBody, type Translation, type Channel,
  CHANNELS, localeTag, resourceName,
} from './types.ts';
