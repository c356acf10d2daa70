// How modules listen to each other, in one place: consent changes go out as signed webhooks and to
// Salesforce; sends check consent and carry its links; delivery events go out as webhooks.
import type { ModuleServices } from './registry.ts';

const MESSAGE_EVENTS: Record<string, string> = {
  sent: 'message.sent', failed: 'message.failed', delivered: 'message.delivered', bounced: 'message.bounced',
  complained: 'message.complained', opened: 'message.opened', clicked: 'message.clicked',
};

export function connectModules(s: ModuleServices): void {
  // A merge keeps the stricter consent of the two profiles (an opt-out is never lost).
  s.people.onMerge((tx, ws, primary, secondary) => s.consent.mergePeople(tx, ws, primary, secondary));
  // The merged-away person leaves their segments (the survivor takes their lists); the survivor gained
  // events, attributes and consent: every segment may have changed for them.
  s.people.onMerge((tx, ws, primary, secondary) => s.segments.mergePeople(tx, ws, primary, secondary));
  // A CSV import fills manual lists and marks the people it changed for re-evaluation.
  s.imports.useLists(s.segments);

  s.consent.onChange(async (tx, c) => {
    // Topic and reachability conditions read consent and the suppression list.
    if (c.personId) await s.segments.markDirty(tx, c.workspaceId, [c.personId], ['consent']);
    else if (c.address) await s.segments.markDirtyByAddress(tx, c.workspaceId, c.channel === 'sms' ? 'sms' : 'email', c.address, ['consent']);
    await s.webhooks.emit(tx, c.workspaceId, 'consent.changed', {
      personId: c.personId, kind: c.kind, channel: c.channel, topic: c.topic, address: c.address,
      from: c.from, to: c.to, source: c.source, at: c.at.toISOString(), ledgerId: c.ledgerId, messageId: c.messageId,
    });
    // Salesforce's HasOptedOutOfEmail follows the global email unsubscribe and suppression.
    if (c.channel === 'email' && c.address && (c.kind === 'global' || c.kind === 'suppression')) {
      await s.salesforce.onConsentChange(tx, { workspaceId: c.workspaceId, email: c.address, optedOut: c.to === 'unsubscribed' || c.to === 'suppressed', at: c.at });
    }
  });

  // Double opt-in confirmations go out like any other message (the workspace's sender, else the dev
  // inbox), queued in the transaction that made the topic pending.
  s.consent.useConfirmations(async (tx, ws, m) => {
    await s.delivery.enqueue(tx, ws, {
      idempotencyKey: m.key, source: 'consent', channel: m.channel, to: m.to, personId: m.personId, templateId: null, retain: true,
      request: m.channel === 'sms'
        ? { sms: { body: m.text }, messageData: m.data }
        : { inline: { subject: m.subject, body: m.html, plaintextBody: m.text }, messageData: m.data },
    });
  });

  // A template's test send goes through the workspace's sender when it has one (dev inbox otherwise).
  s.templates.useTestSender((ws, e) => s.delivery.sendTest(ws, e));

  s.delivery.useConsent({
    check: (ws, who, what) => s.consent.check(ws, who, what),
    links: (ws, opts) => s.consent.links(ws, opts),
  });

  // Tracking rewrites each email (tracked links, UTM tags, open pixel) and makes its view-in-browser URL.
  s.delivery.useTransform((ws, m, email) => s.tracking.transform(ws, m, email));
  s.delivery.useViewUrl((ws, messageId) => s.tracking.viewUrl(ws, messageId));

  s.delivery.onMessageEvent(async (tx, ws, type, m, data) => {
    if (m.personId) await s.segments.markDirty(tx, ws, [m.personId], ['messages']);
    const event = MESSAGE_EVENTS[type];
    if (!event) return;
    await s.webhooks.emit(tx, ws, event, {
      deliveryId: m.id, personId: m.personId, channel: m.channel, to: m.to, templateId: m.templateId, source: m.source, ...data,
    });
  }, {
    // Sends write their outcomes without a transaction when this hook has nothing to do (cached).
    wants: async (ws, type, m) => (MESSAGE_EVENTS[type] !== undefined && await s.webhooks.wants(ws, MESSAGE_EVENTS[type]))
      || (m.personId !== null && await s.segments.watches(ws)),
  });
}
