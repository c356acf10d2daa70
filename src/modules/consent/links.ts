// Signed links that act without a login: one-click unsubscribe (/u/), the preference centre
// (/preferences/) and double opt-in confirmation (/confirm/). Unsubscribe and preference tokens carry no
// expiry: an unsubscribe link must keep working long after the message (RFC 8058 readers may use it
// weeks later). A confirmation token expires (`x`, Unix seconds): an old forwarded email must not
// subscribe anyone.
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { SignedPayload } from '../signing/index.ts';
import type { SigningService } from '../signing/index.ts';
import type { WorkspaceService } from '../workspaces/index.ts';
import { CONFIRM_LINK_TTL_MS } from './confirmation.ts';
import { CHANNELS, type ConsentChannel, type ConsentLinks } from './types.ts';

export const PURPOSES = { unsubscribe: 'consent.unsubscribe', preferences: 'consent.preferences', confirm: 'consent.confirm' } as const;
export type LinkPurpose = keyof typeof PURPOSES;

export interface LinkPerson { id: string; userId: string | null; email: string | null; phone: string | null; locale: string | null }

/** What a verified link points at, with what a page needs to brand and localise itself. */
export interface LinkTarget {
  workspaceId: string;
  workspaceName: string;
  defaultLocale: string | null;
  person: LinkPerson;
  messageId: string | null;
  topic: string | null;
  channel: ConsentChannel;
}

const badToken = () => new AppError('consent.bad_token', undefined, { field: 'token' });
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function createLinks(
  deps: { clock: Clock; config: Pick<Config, 'publicUrl'>; signing: SigningService; workspaces: Pick<WorkspaceService, 'get'> },
  contact: (ws: string, personId: string) => Promise<LinkPerson | undefined>,
) {
  const base = deps.config.publicUrl.replace(/\/+$/, '');

  async function sign(purpose: LinkPurpose, payload: SignedPayload): Promise<string> {
    return (await deps.signing.signer()).sign(PURPOSES[purpose], payload);
  }

  return {
    /** The links a message carries: List-Unsubscribe (one-click URL and mailto), the footer's links. */
    async links(ws: string, opts: { personId: string; messageId?: string | null | undefined; topic?: string | null | undefined; channel?: ConsentChannel | undefined }): Promise<ConsentLinks> {
      const payload = { w: ws, p: opts.personId, m: opts.messageId ?? null, t: opts.topic ?? null };
      const unsubscribe = await sign('unsubscribe', payload);
      const preferences = await sign('preferences', { ...payload, c: opts.channel ?? 'email' });
      const host = new URL(base).hostname;
      return {
        oneClickUrl: `${base}/u/${unsubscribe}`,
        unsubscribeUrl: `${base}/u/${unsubscribe}`,
        preferencesUrl: `${base}/preferences/${preferences}`,
        // Tandem cannot receive mail yet: the mailto is there for readers that only know mailto.
        mailto: `mailto:unsubscribe@${host}?subject=unsubscribe-${unsubscribe}`,
      };
    },

    /** The double opt-in link for a topic, working for CONFIRM_LINK_TTL_MS from now. */
    async confirmUrl(ws: string, personId: string, topic: string): Promise<string> {
      const expires = Math.floor((deps.clock.now().getTime() + CONFIRM_LINK_TTL_MS) / 1000);
      return `${base}/confirm/${await sign('confirm', { w: ws, p: personId, t: topic, x: expires })}`;
    },

    /**
     * Verifies a link token; consent.bad_token when it is forged, of another purpose, or its person or
     * workspace is gone; consent.link_expired for a confirmation link past its time.
     */
    async openLink(purpose: LinkPurpose, token: string): Promise<LinkTarget> {
      const payload = (await deps.signing.signer()).verify(PURPOSES[purpose], token);
      const ws = str(payload?.['w']);
      const personId = str(payload?.['p']);
      if (!payload || ws === null || personId === null) throw badToken();
      if (purpose === 'confirm') {
        const expires = payload['x'];
        if (typeof expires !== 'number') throw badToken();
        if (expires * 1000 <= deps.clock.now().getTime()) throw new AppError('consent.link_expired', undefined, { field: 'token' });
      }
      let workspace;
      try {
        workspace = await deps.workspaces.get(ws);
      } catch (err) {
        if (isAppError(err) && err.code === 'workspace.not_found') throw badToken();
        throw err;
      }
      const person = await contact(ws, personId);
      if (!person) throw badToken();
      const channel = CHANNELS.find((c) => c === payload['c']) ?? 'email';
      return {
        workspaceId: ws, workspaceName: workspace.name, defaultLocale: workspace.settings.defaultLocale ?? null,
        person, messageId: str(payload['m']), topic: str(payload['t']), channel,
      };
    },
  };
}
