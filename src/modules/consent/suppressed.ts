// Is an address suppressed? The suppression list, and for email the people module's
// delete-and-suppress list too. Asked before every send and never cached (a suppression is honoured
// at once), so concurrent sends' questions are put together: two statements per flush, whatever the
// number of addresses.
import type { Db } from '../../db/pool.ts';
import { groupCommit } from '../../db/group-commit.ts';
import type { PeopleService } from '../people/index.ts';
import { createConsentRepo } from './repo.ts';
import type { ConsentChannel } from './types.ts';

export function createSuppressionCheck(deps: { db: Db; people: Pick<PeopleService, 'suppressedEmails'> }) {
  const check = groupCommit<string, { channel: ConsentChannel; address: string }, boolean>(async (ws, items) => {
    const emails = [...new Set(items.filter((i) => i.channel === 'email').map((i) => i.address))];
    const [listed, deleted] = await Promise.all([
      createConsentRepo(deps.db).suppressedMany(ws, items),
      emails.length > 0 ? deps.people.suppressedEmails(ws, emails) : Promise.resolve(new Set<string>()),
    ]);
    return items.map((i) => listed.has(`${i.channel}:${i.address}`) || (i.channel === 'email' && deleted.has(i.address.toLowerCase())));
  }, { max: 500 });

  /** `address` normalised as the suppression list keeps it. */
  return (ws: string, channel: ConsentChannel, address: string): Promise<boolean> => check(ws, { channel, address });
}
