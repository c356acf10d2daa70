export { Renderer } from './renderer.ts';
export type {
  CompiledTemplate,
  CompiledTexts,
  RenderInput,
  RenderObserver,
  RenderOp,
  RenderResult,
  RendererOptions,
  TemplateSource,
} from './renderer.ts';
export { defaultThreads, type RenderPoolStats } from './pool.ts';
export { defaultLimits, linkTags, type RenderLimits, type PartialMap } from './liquid.ts';
export type { RenderWarning } from './mjml.ts';
export { buildRenderData } from './scope.ts';
export type { RenderContextInput, RenderData, RenderLinks, RenderPerson } from './scope.ts';
