// The person export ("everything stored about me") as a stream of JSON text. The profile,
// identifiers, devices, objects and suppressions are small and read at once; events can number
// in the hundreds of thousands, so they are read in keyset pages and written as they arrive.
import type { EventRow, Keyset, PeopleQueryRepo, PersonRow } from './query-repo.ts';
import { eventView, identifierLists, personView, relatedObjectView } from './views.ts';

const EVENT_PAGE = 1000;

export async function* exportChunks(repo: PeopleQueryRepo, ws: string, person: PersonRow, exportedAt: Date): AsyncGenerator<string> {
  const identifiers = await repo.identifiers(ws, person.id);
  const lists = identifierLists(identifiers);
  const userIds = [...new Set([...lists.userIds, ...(person.externalId !== null ? [person.externalId] : [])])];
  const [devices, objects, suppressions] = await Promise.all([
    repo.devices(ws, person.id),
    repo.relatedObjects(ws, person.id),
    repo.suppressionsFor(ws, { user: userIds, anonymous: lists.anonymousIds, email: person.email }),
  ]);
  const head = {
    exportedAt: exportedAt.toISOString(),
    person: { ...personView(person), identifiers: lists },
    identifiers: identifiers.map((i) => ({ kind: i.kind, value: i.value, createdAt: i.createdAt.toISOString() })),
    devices: devices.map((d) => ({
      deviceId: d.deviceId, platform: d.platform, attributes: d.attributes, lastUsed: d.lastUsed?.toISOString() ?? null,
      createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString(),
    })),
    objects: objects.map(relatedObjectView),
    suppressions: suppressions.map((s) => ({ kind: s.kind, value: s.value, reason: s.reason, createdAt: s.createdAt.toISOString() })),
  };
  // Open the head object and append the events array as the last key.
  yield `${JSON.stringify(head).slice(0, -1)},"events":[`;
  let after: Keyset | undefined;
  let first = true;
  for (;;) {
    const rows: EventRow[] = await repo.timeline(ws, person.id, { limit: EVENT_PAGE, after });
    let chunk = '';
    for (const row of rows) {
      chunk += (first ? '' : ',') + JSON.stringify(eventView(row));
      first = false;
    }
    if (chunk) yield chunk;
    const last = rows[rows.length - 1];
    if (!last || rows.length < EVENT_PAGE) break;
    after = { ts: last.cursorTs, id: last.id };
  }
  yield ']}';
}
