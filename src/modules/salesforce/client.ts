// A small Salesforce REST client (API v60.0) over the outbound guard: an OAuth 2.0 token from
// {instance}/services/oauth2/token (client credentials, or a refresh token when one is stored), kept in
// memory and fetched again once when an API call answers 401; SOQL queries and sObject PATCHes.
import { AppError, isAppError } from '../../errors.ts';
import type { OutboundClient } from '../../net/index.ts';

export const API_VERSION = 'v60.0';

/** A failure worth trying again later (5xx, 429, network); graphile's own retry backs off. */
export class RetryableSalesforceError extends Error {}

export interface SalesforceCredentials {
  instanceUrl: string;
  clientId: string;
  clientSecret: string | null;
  refreshToken: string | null;
}

export interface CachedToken {
  accessToken: string;
  /** The API host the token endpoint named (instance_url), else the configured instance. */
  apiUrl: string;
}

/** Escapes a value for a single-quoted SOQL string literal (backslash and quotes, and control characters). */
export function soqlString(value: string): string {
  const escaped = value.replace(/[\\'"\n\r\t\b\f]/g, (c) => {
    switch (c) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      case '\b': return '\\b';
      case '\f': return '\\f';
      default: return `\\${c}`;
    }
  });
  return `'${escaped}'`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function createSalesforceClient(outbound: OutboundClient, creds: SalesforceCredentials, cache: { get(): CachedToken | undefined; set(t: CachedToken | undefined): void }) {
  async function send(url: string, init: { method: 'GET' | 'POST' | 'PATCH'; headers: Record<string, string>; body?: string }) {
    try {
      return await outbound.fetch(url, { ...init, redirect: 'manual', timeoutMs: 15_000, maxBytes: 2 * 1024 * 1024 });
    } catch (err) {
      // A refused address is permanent; timeouts and unreachable hosts may pass.
      if (isAppError(err) && (err.code === 'net.timeout' || err.code === 'net.unreachable')) throw new RetryableSalesforceError(`${err.code}: ${err.message}`);
      throw err;
    }
  }

  async function fetchToken(): Promise<CachedToken> {
    const form = new URLSearchParams(creds.refreshToken
      ? { grant_type: 'refresh_token', client_id: creds.clientId, refresh_token: creds.refreshToken, ...(creds.clientSecret ? { client_secret: creds.clientSecret } : {}) }
      : { grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret ?? '' });
    const res = await send(`${trimSlash(creds.instanceUrl)}/services/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString(),
    });
    if (res.status >= 500 || res.status === 429) throw new RetryableSalesforceError(`token endpoint answered ${res.status}`);
    let body: { access_token?: unknown; instance_url?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch { /* not JSON: handled below */ }
    if (res.status !== 200 || typeof body.access_token !== 'string') {
      const why = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : `HTTP ${res.status}`;
      throw new AppError('salesforce.auth_failed', `Salesforce refused the credentials (${why}).`);
    }
    const token = { accessToken: body.access_token, apiUrl: typeof body.instance_url === 'string' && body.instance_url ? trimSlash(body.instance_url) : trimSlash(creds.instanceUrl) };
    cache.set(token);
    return token;
  }

  /** An API call with the cached token; a 401 fetches a new token and tries once more. */
  async function api(method: 'GET' | 'PATCH', path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
    for (let round = 0; ; round++) {
      const token = (round === 0 ? cache.get() : undefined) ?? await fetchToken();
      const res = await send(`${token.apiUrl}${path}`, {
        method, headers: {
          authorization: `Bearer ${token.accessToken}`, accept: 'application/json',
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      if (res.status === 401 && round === 0) {
        cache.set(undefined);
        continue;
      }
      const text = res.body.toString('utf8');
      if (res.status >= 500 || res.status === 429) throw new RetryableSalesforceError(`${method} ${path.split('?')[0] ?? ''} answered ${res.status}`);
      if (res.status === 401) throw new AppError('salesforce.auth_failed', 'Salesforce refused a fresh access token (401).');
      if (res.status < 200 || res.status >= 300) {
        throw new AppError('salesforce.request_failed', `${method} ${path.split('?')[0] ?? ''} answered ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
      }
      let body: unknown = null;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch { /* a 2xx that is not JSON: treat as empty */ }
      }
      return { status: res.status, body };
    }
  }

  return {
    /** Ids of the records of `sobject` whose Email equals `email`. */
    async idsByEmail(sobject: 'Lead' | 'Contact', email: string): Promise<string[]> {
      const q = `SELECT Id FROM ${sobject} WHERE Email = ${soqlString(email)}`;
      const { body } = await api('GET', `/services/data/${API_VERSION}/query?q=${encodeURIComponent(q)}`);
      const records = (body as { records?: unknown } | null)?.records;
      if (!Array.isArray(records)) throw new AppError('salesforce.request_failed', 'The query answer has no records list.');
      return records.map((r) => (r as { Id?: unknown }).Id).filter((id): id is string => typeof id === 'string');
    },

    async setOptedOut(sobject: 'Lead' | 'Contact', id: string, optedOut: boolean): Promise<void> {
      await api('PATCH', `/services/data/${API_VERSION}/sobjects/${sobject}/${encodeURIComponent(id)}`, { HasOptedOutOfEmail: optedOut });
    },
  };
}
