// What the public pages do, behind their signed links: one-click unsubscribe, the preference centre
// and double opt-in confirmation. Reading a page never changes anything; only the POSTs do.
import type { ConsentService } from './service.ts';
import type { LinkTarget } from './links.ts';
import { addressFor } from './address.ts';
import { pickLanguage } from './strings.ts';
import type { ConsentContext, PersonTopicState } from './types.ts';

export interface RequestContext { ip: string | null; userAgent: string | null }

export interface PreferencesView {
  target: LinkTarget;
  lang: string;
  address: string | null;
  topics: PersonTopicState[];
  unsubscribedAll: boolean;
}

export function languageOf(target: LinkTarget): string {
  return pickLanguage(target.person.locale, target.defaultLocale);
}

export function createPublicConsent(consent: ConsentService) {
  const ctxOf = (source: ConsentContext['source'], target: LinkTarget, req: RequestContext): ConsentContext =>
    ({ source, ip: req.ip, userAgent: req.userAgent, messageId: target.messageId });

  async function preferencesLink(target: LinkTarget): Promise<string> {
    return (await consent.links(target.workspaceId, { personId: target.person.id, messageId: target.messageId, topic: target.topic, channel: target.channel })).preferencesUrl;
  }

  async function preferences(target: LinkTarget): Promise<PreferencesView> {
    const state = await consent.state(target.workspaceId, target.person.id);
    return {
      target, lang: languageOf(target), address: addressFor(target.person, target.channel),
      topics: state.topics.filter((t) => t.channel === target.channel || t.channel === 'any'),
      unsubscribedAll: state.unsubscribedAll[target.channel],
    };
  }

  return {
    async unsubscribePage(token: string) {
      const target = await consent.openLink('unsubscribe', token);
      return { target, lang: languageOf(target), address: addressFor(target.person, 'email'), preferencesUrl: await preferencesLink(target) };
    },

    /** RFC 8058: unsubscribes from all marketing email at once. */
    async oneClick(token: string, req: RequestContext) {
      const target = await consent.openLink('unsubscribe', token);
      await consent.setConsent(target.workspaceId, target.person.id, { unsubscribedAll: { email: true } }, ctxOf('one_click', target, req));
      return { target, lang: languageOf(target), preferencesUrl: await preferencesLink(target) };
    },

    async preferencesPage(token: string): Promise<PreferencesView> {
      return preferences(await consent.openLink('preferences', token));
    },

    /** The form: `shown` names each topic on the page, `topic` each one left checked, `all` the global box. */
    async savePreferences(token: string, form: { shown: string[]; topic: string[]; all: boolean }, req: RequestContext): Promise<PreferencesView> {
      const target = await consent.openLink('preferences', token);
      const before = await preferences(target);
      const checked = new Set(form.topic);
      const topics: Record<string, boolean> = {};
      for (const t of before.topics) {
        if (!form.shown.includes(t.key)) continue; // added after the page was shown: leave it alone
        // A double opt-in topic checked here becomes pending and is sent its confirmation (at most one per day).
        topics[t.key] = checked.has(t.key);
      }
      await consent.setConsent(target.workspaceId, target.person.id,
        { topics, unsubscribedAll: { [target.channel]: form.all } }, ctxOf('preference_centre', target, req));
      return preferences(target);
    },

    async confirmPage(token: string) {
      const target = await consent.openLink('confirm', token);
      return { target, lang: languageOf(target), topicName: await topicName(target) };
    },

    /** Double opt-in: pending -> subscribed; anything else is left as it is. */
    async confirm(token: string, req: RequestContext) {
      const target = await consent.openLink('confirm', token);
      const state = await consent.state(target.workspaceId, target.person.id);
      const topic = state.topics.find((t) => t.key === target.topic);
      const confirmed = topic?.state === 'pending';
      if (confirmed && topic) {
        await consent.confirmTopic(target.workspaceId, target.person.id, topic.key, { ip: req.ip, userAgent: req.userAgent, messageId: target.messageId });
      }
      return { target, lang: languageOf(target), topicName: topic?.name ?? target.topic ?? '', confirmed };
    },
  };

  async function topicName(target: LinkTarget): Promise<string> {
    const state = await consent.state(target.workspaceId, target.person.id);
    return state.topics.find((t) => t.key === target.topic)?.name ?? target.topic ?? '';
  }
}

export type PublicConsent = ReturnType<typeof createPublicConsent>;
