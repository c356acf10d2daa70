// Turns any thrown error into a 4xx/5xx with a stable code and the failing field.
// Three response dialects: Tandem's own, Segment's and Customer.io's (routes pick one in config).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, errorCatalogue, isAppError, type ErrorCode } from '../errors.ts';

export type Dialect = 'tandem' | 'segment' | 'customerio';

declare module 'fastify' {
  interface FastifyContextConfig {
    dialect?: Dialect;
    /** The code to answer with when the body exceeds the route's bodyLimit. */
    tooLargeCode?: ErrorCode;
  }
}

/** "/batch/3/userId" -> "batch[3].userId" */
export function fieldPath(parts: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number' || /^\d+$/.test(String(p))) out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function toAppError(err: unknown, tooLargeCode: ErrorCode = 'request.too_large'): AppError {
  if (isAppError(err)) return err;
  const fe = err as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const issues = (fe as { validation: Array<{ instancePath?: string; message?: string }> }).validation;
    const first = issues[0];
    const parts = (first?.instancePath ?? '').split('/').filter(Boolean);
    const prefix = fe.validationContext && fe.validationContext !== 'body' ? [fe.validationContext] : [];
    const field = fieldPath([...prefix, ...parts]) || (fe.validationContext ?? 'body');
    return new AppError('request.invalid', `${field}: ${first?.message ?? 'invalid'}`, { field });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(tooLargeCode, undefined, { field: 'body' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('request.invalid_json', fe.message, { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('request.unsupported_media_type', fe.message, { field: 'content-type' });
    case 'FST_ERR_VALIDATION':
      return new AppError('request.invalid', fe.message, { field: 'body' });
    default:
      break;
  }
  if (err instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    return new AppError('request.invalid_json', fe.message, { field: 'body' });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('request.invalid', fe.message);
  }
  return new AppError('internal');
}

export function errorBody(dialect: Dialect, e: AppError): Record<string, unknown> {
  const base = { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  switch (dialect) {
    case 'segment':
      return { success: false, ...base };
    case 'customerio':
      // Customer.io answers errors as {"meta": {"error": "..."}}; we add the code and field.
      return { meta: { error: e.message, errors: [e.message] }, ...base };
    case 'tandem':
      // Lint refusals carry their findings, so the editor can point at each one.
      return { error: Array.isArray(e.details['findings']) ? { ...base, findings: e.details['findings'] } : base };
  }
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const config = request.routeOptions.config;
  const e = toAppError(err, config.tooLargeCode);
  const status = errorCatalogue[e.code].status;
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.debug({ code: e.code, field: e.field }, 'request rejected');
  return reply.status(status).send(errorBody(config.dialect ?? 'tandem', e));
}
