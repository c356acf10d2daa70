// What the main thread and a render thread say to each other (renderer.ts ↔ worker.ts).
import type { ErrorCode, ErrorDetails } from '../../../errors.ts';
import type { RenderLimits } from './liquid.ts';
import type { RenderWarning } from './mjml.ts';
import type { RenderData } from './scope.ts';
import type { RenderResult, TemplateSource } from './engine.ts';

type Data = RenderData | Record<string, unknown>;
type Source = Omit<TemplateSource, 'key'>;

/** `key` is the renderer's namespaced cache key; a request without its source is answered `missing` if the thread has no such key. */
export type RenderRequest =
  | { op: 'compile'; key: string; source: Source; limits: RenderLimits }
  | { op: 'render'; key: string; source?: Source; limits?: RenderLimits; data: Data }
  | { op: 'texts'; key: string; parts?: Record<string, string>; partials?: Source['partials']; limits?: RenderLimits; data: Data };

export type RenderValue =
  | { op: 'compile'; html: string; warnings: RenderWarning[] }
  | { op: 'render'; result: RenderResult }
  | { op: 'texts'; result: Record<string, string> };

export interface SerializedError { code: ErrorCode; message: string; details: ErrorDetails }

export type RenderReply =
  | { id: number; ok: true; value: RenderValue; compiled: boolean }
  | { id: number; ok: false; missing: true }
  | { id: number; ok: false; missing?: false; error: SerializedError };

/** `rendering`: the request compiled its version and now renders (the pool switches to the render deadline). */
export type ThreadMessage = RenderReply | { ready: true; tid?: number | undefined } | { id: number; rendering: true };
