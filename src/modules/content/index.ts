// Public surface of the content module.
export * from './render/index.ts';
export * from './resources/index.ts';
export { composeBlock, composeEmail, protectPerPerson, PER_PERSON_ROOTS } from './compose.ts';
export type { Block, ComponentDef, ComposeInput, LayoutDef } from './compose.ts';
export * from './starter/index.ts';
export * from './lint/index.ts';
export * from './links/index.ts';
export { createTemplateRenderService, type TemplateRenderService, type RenderedMessage, type RenderOptions } from './templates/service.ts';
export { createPreviewService, type PreviewService, type PreviewInput } from './templates/preview.ts';
export { registerTemplateRoutes } from './templates/routes.ts';
export type { VersionChoice, Mode } from './templates/loader.ts';
export { createTemplateLinter, type TemplateLinter, type TemplateLint } from './templates/lint.ts';
