// Turns LiquidJS failures into AppErrors with stable codes. Messages are built from LiquidJS's own
// short message plus a position; the source excerpt LiquidJS attaches (err.context / stack) is
// never copied, so an error cannot echo anything beyond the template author's own text.
import { LiquidError, RenderError, UndefinedVariableError } from 'liquidjs';
import { AppError } from '../../../errors.ts';

export type LimitKind = 'time' | 'memory' | 'array' | 'output' | 'partial_depth' | 'stack' | 'deadline';

/** Thrown by our own bounds (output size, partial nesting); LiquidJS wraps it as originalError. */
export class RenderLimitError extends Error {
  readonly limit: LimitKind;
  constructor(limit: LimitKind, message: string) {
    super(message);
    this.name = 'RenderLimitError';
    this.limit = limit;
  }
}

function limitOf(err: unknown): LimitKind | undefined {
  if (err instanceof RenderLimitError) return err.limit;
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'stack';
  if (!(err instanceof Error)) return undefined;
  if (err.message.startsWith('template render limit exceeded')) return 'time';
  if (err.message.startsWith('memory alloc limit exceeded')) return 'memory';
  return undefined;
}

function rootCause(err: unknown): unknown {
  let cur = err;
  for (let i = 0; i < 32 && cur instanceof LiquidError && cur.originalError; i++) cur = cur.originalError;
  return cur;
}

function bareMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // LiquidJS appends ", file:x, line:1, col:2"; we report those as fields instead.
  return msg.replace(/(, file:[^,]*)?, line:\d+, col:\d+$/, '').slice(0, 300);
}

/** Maps a line of a combined template back to the part it came from. */
export type Locate = (line: number) => { part: string; line: number };

function position(err: LiquidError, locate?: Locate): { line: number; column: number; partial?: string; part?: string } {
  const [line = 0, column = 0] = err.token.getPosition();
  const file = err.token.file;
  if (file) return { line, column, partial: file };
  return locate ? { ...locate(line), column } : { line, column };
}

/** Map anything thrown while parsing or rendering `part` ('subject', 'body' …) to an AppError. */
export function toTemplateError(err: unknown, defaultPart: string, locate?: Locate): AppError {
  if (err instanceof AppError) return err;
  const located = err instanceof LiquidError ? position(err, locate) : undefined;
  const part = located?.part ?? defaultPart;
  const cause = rootCause(err);
  const limit = limitOf(cause) ?? limitOf(err);
  if (limit) {
    return new AppError('template.render_limit', `Rendering ${part} stopped: ${bareMessage(cause)}.`, {
      ...located,
      part,
      limit,
    });
  }
  if (cause instanceof Error && cause.message.startsWith('parse length limit exceeded')) {
    return new AppError('template.too_large', undefined, { part });
  }
  if (cause instanceof Error && (cause as { code?: unknown }).code === 'ENOENT') {
    const name = /lookup "([^"]*)"/.exec(cause.message)?.[1] ?? '';
    return new AppError('template.partial_not_found', `No snippet or component named "${name.slice(0, 100)}".`, {
      ...located,
      part,
      partial: name.slice(0, 100),
    });
  }
  if (err instanceof LiquidError && located) {
    const where = located;
    const isRender = err instanceof RenderError || err instanceof UndefinedVariableError;
    const code = isRender ? 'template.render_error' : 'template.syntax';
    const at = `line ${where.line}, column ${where.column}${where.partial ? ` of "${where.partial}"` : ''}`;
    return new AppError(code, `${bareMessage(cause)} (${part}, ${at}).`, { ...where, part });
  }
  return new AppError('template.render_error', `Rendering ${part} failed: ${bareMessage(cause)}.`, { part });
}
