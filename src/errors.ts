// One catalogue of stable error codes. Codes are documented in docs/errors.md and never reused.
// Domain code throws AppError with a code; src/http/errors.ts maps the code to an HTTP status.

export const errorCatalogue = {
  'request.invalid_json': { status: 400, message: 'The request body is not valid JSON.' },
  'request.invalid': { status: 400, message: 'The request failed validation.' },
  'request.unsupported_media_type': { status: 415, message: 'The content type is not supported.' },
  'request.too_large': { status: 413, message: 'The request body is too large.' },
  'request.invalid_encoding': { status: 400, message: 'The request body could not be decompressed.' },
  'event.too_large': { status: 400, message: 'An event is larger than 32 KB.' },
  'batch.too_large': { status: 400, message: 'The batch is larger than 500 KB.' },
  'event.missing_identity': { status: 400, message: 'An event needs a userId or an anonymousId.' },
  'auth.missing': { status: 401, message: 'Credentials are missing.' },
  'auth.invalid': { status: 401, message: 'The credentials are not valid.' },
  'workspace.not_found': { status: 404, message: 'Workspace not found.' },
  'workspace.limit_reached': { status: 409, message: 'The workspace has reached the limit of this collection.' },
  'key.not_found': { status: 404, message: 'Key not found.' },
  'person.not_found': { status: 404, message: 'Person not found.' },
  'object.not_found': { status: 404, message: 'Object not found.' },
  'event_type.not_found': { status: 404, message: 'No such event type in the catalog.' },
  'person.merge_same': { status: 400, message: 'A person cannot be merged into itself.' },
  'route.not_found': { status: 404, message: 'No such route.' },
  'net.bad_url': { status: 400, message: 'The URL is not a valid http or https URL.' },
  'net.forbidden_address': { status: 400, message: 'The URL points to an address Tandem may not connect to.' },
  'net.too_many_redirects': { status: 400, message: 'The URL redirects too many times.' },
  'net.too_large': { status: 400, message: 'The response from the URL is too large.' },
  'net.timeout': { status: 504, message: 'The URL did not answer in time.' },
  'net.unreachable': { status: 502, message: 'The URL could not be reached.' },
  'template.syntax': { status: 400, message: 'The template has a Liquid syntax error.' },
  'template.mjml_invalid': { status: 400, message: 'The MJML could not be parsed.' },
  'template.partial_not_found': { status: 400, message: 'The template renders a snippet or component that does not exist.' },
  'template.too_large': { status: 400, message: 'The template source is too large.' },
  'template.render_limit': { status: 422, message: 'Rendering exceeded its time, memory, output or nesting limit.' },
  'template.render_error': { status: 422, message: 'The template failed to render.' },
  'content.not_found': { status: 404, message: 'No such content resource in this workspace.' },
  'content.name_taken': { status: 409, message: 'A resource of this kind already has this name.' },
  'content.version_not_found': { status: 404, message: 'The resource has no such version.' },
  'content.lint_failed': { status: 422, message: 'The template has lint errors; fix them or publish with force.' },
  'content.not_published': { status: 409, message: 'A resource the template needs has never been published.' },
  'content.wrong_channel': { status: 400, message: 'This action needs a template of another channel.' },
  'event.not_found': { status: 404, message: 'The person has no such event.' },
  'domain.not_found': { status: 404, message: 'No such sending domain in this workspace.' },
  'inbound.signature': { status: 401, message: 'The notification\'s signature does not verify with this sender\'s secret.' },
  'inbound.stale': { status: 401, message: 'The notification is older (or newer) than 5 minutes.' },
  'inbound.payload': { status: 400, message: 'The notification is not one this provider sends.' },
  'sender.not_found': { status: 404, message: 'No such sender in this workspace.' },
  'message.not_found': { status: 404, message: 'No such message in this workspace.' },
  'send.no_recipient': { status: 400, message: 'The send names no recipient: give `to`, or identifiers of a person with an address.' },
  'send.template_not_found': { status: 404, message: 'No template with this id or name in the workspace.' },
  'send.test_failed': { status: 502, message: "The workspace's sender refused or could not take the test send." },
  'idempotency.key_reused': { status: 422, message: 'This Idempotency-Key was used with a different request body.' },
  'dev_inbox.not_found': { status: 404, message: 'No such message in the dev inbox.' },
  'asset.not_found': { status: 404, message: 'No such asset.' },
  'asset.unsupported_type': { status: 415, message: 'The file is not a PNG, JPEG, GIF, WebP or SVG image.' },
  'asset.too_large': { status: 413, message: 'The file is larger than the asset size limit.' },
  'asset.bad_width': { status: 400, message: 'The width is not one of the allowed variant widths.' },
  'asset.in_use': { status: 409, message: 'The asset is used by templates; delete with ?force=true to delete it anyway.' },
  'asset.import_failed': { status: 422, message: 'The URL did not answer with the image (non-2xx status).' },
  'ascode.invalid_file': { status: 400, message: 'A resource file is not valid.' },
  'ascode.bad_directory': { status: 400, message: 'The resource directory is missing, not a directory, or has no resource folders.' },
  'ascode.unreachable': { status: 502, message: 'The Tandem server could not be reached.' },
  'ascode.remote_error': { status: 502, message: 'The Tandem server gave an unexpected answer.' },
  'webhook.endpoint_not_found': { status: 404, message: 'No such webhook endpoint.' },
  'webhook.unknown_event_type': { status: 400, message: 'No such webhook event type.' },
  'webhook.endpoint_disabled': { status: 409, message: 'The webhook endpoint is disabled; enable it first.' },
  'salesforce.not_connected': { status: 404, message: 'The workspace has no Salesforce connection.' },
  'salesforce.auth_failed': { status: 502, message: 'Salesforce refused the credentials.' },
  'salesforce.request_failed': { status: 502, message: 'A Salesforce API request failed.' },
  'topic.not_found': { status: 404, message: 'No such topic in this workspace.' },
  'topic.key_taken': { status: 409, message: 'Another topic in this workspace has this key.' },
  'consent.bad_token': { status: 400, message: 'The link is invalid or no longer points to a person.' },
  'consent.bad_request': { status: 400, message: 'The unsubscribe request is not an RFC 8058 one-click POST.' },
  'consent.no_address': { status: 400, message: 'The person has no address on this channel.' },
  'consent.invalid_address': { status: 400, message: 'The address is not a valid email address or E.164 phone number.' },
  'consent.suppression_not_found': { status: 404, message: 'The address is not on the suppression list.' },
  'consent.link_expired': { status: 400, message: 'The confirmation link has expired; ask for a new one.' },
  'tracking.bad_token': { status: 404, message: 'The tracking link is invalid or points to nothing.' },
  'segment.not_found': { status: 404, message: 'No such segment or list in this workspace.' },
  'segment.not_manual': { status: 409, message: 'People can be added to and removed from manual lists only; this segment is dynamic.' },
  'segment.key_taken': { status: 409, message: 'Another segment in this workspace has this key.' },
  'segment.unknown_reference': { status: 400, message: 'The definition names a segment, topic or template that does not exist.' },
  'segment.cycle': { status: 400, message: 'The definition refers to itself through other segments.' },
  'segment.too_complex': { status: 400, message: 'The definition is nested too deeply or has too many conditions.' },
  'segment.in_use': { status: 409, message: 'Other segments refer to this one.' },
  'segment.not_dynamic': { status: 409, message: 'This action needs a dynamic segment (one with a definition).' },
  'import.not_found': { status: 404, message: 'No such import in this workspace.' },
  'import.bad_header': { status: 400, message: 'The CSV header row is missing or not valid.' },
  'import.unknown_topic': { status: 400, message: 'A topic:<key> column names a topic that does not exist in this workspace.' },
  'import.not_waiting': { status: 409, message: 'The import has already received its file.' },
  'internal': { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface ErrorDetails {
  /** The failing field, as a path: "batch[3].userId". */
  field?: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message?: string, details: ErrorDetails = {}) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'AppError';
    this.code = code;
    this.field = details.field;
    this.details = details;
  }

  get status(): number {
    return errorCatalogue[this.code].status;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
