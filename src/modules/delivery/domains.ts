// Sending domains: a DKIM key pair per domain, the DNS records to publish, and the DKIM options
// nodemailer signs with (From, To, Subject, Date, Message-ID and the List-Unsubscribe headers).
import { generateKeyPairSync } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { ttlCache } from '../../db/ttl-cache.ts';
import { AppError } from '../../errors.ts';
import { createDeliveryRepo } from './repo.ts';
import type { DomainRecords, SendingDomain } from './types.ts';

const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
export const DKIM_HEADERS = 'From:To:Subject:Date:Message-ID:List-Unsubscribe:List-Unsubscribe-Post';

export function recordsOf(d: SendingDomain): DomainRecords {
  const p = d.publicKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return {
    domain: d.domain,
    dkim: { selector: d.selector, name: `${d.selector}._domainkey.${d.domain}`, type: 'TXT', value: `v=DKIM1; k=rsa; p=${p}` },
    spf: { name: d.domain, type: 'TXT', value: 'v=spf1 a mx ~all', note: 'Add the include: of the provider or SMTP relay you send through.' },
    dmarc: { name: `_dmarc.${d.domain}`, type: 'TXT', value: `v=DMARC1; p=none; rua=mailto:dmarc@${d.domain}`, note: 'Start with p=none and tighten once reports look right.' },
  };
}

export function createDomainService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  // A workspace's domains for a few seconds: every send asks for its DKIM key.
  const cache = ttlCache<string, SendingDomain[]>(5_000, (workspaceId) => createDeliveryRepo(db).domains(workspaceId));
  const domainsOf = (workspaceId: string) => cache.get(workspaceId);
  return {
    /** A new DKIM key pair for the domain (2048-bit RSA); adding a domain twice answers the same records. */
    async add(workspaceId: string, rawDomain: string): Promise<DomainRecords> {
      const domain = rawDomain.trim().toLowerCase().replace(/\.$/, '');
      if (!DOMAIN.test(domain)) throw new AppError('request.invalid', 'domain: not a domain name', { field: 'domain' });
      const { publicKey, privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const at = clock.now();
      const selector = `tandem${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
      const repo = createDeliveryRepo(db);
      cache.forget(workspaceId);
      const created = await repo.insertDomain(workspaceId, { domain, selector, privateKey, publicKey, createdAt: at });
      cache.forget(workspaceId);
      const d = created ?? (await repo.domains(workspaceId)).find((x) => x.domain === domain);
      if (!d) throw new Error(`domain ${domain} vanished`);
      return recordsOf(d);
    },

    async list(workspaceId: string): Promise<DomainRecords[]> {
      return (await createDeliveryRepo(db).domains(workspaceId)).map(recordsOf);
    },

    async remove(workspaceId: string, domain: string): Promise<void> {
      const deleted = await createDeliveryRepo(db).deleteDomain(workspaceId, domain.toLowerCase());
      cache.forget(workspaceId);
      if (!deleted) {
        throw new AppError('domain.not_found', undefined, { field: 'domain' });
      }
    },

    /** nodemailer's DKIM options for a From address, when its domain (or a parent) is a sending domain. */
    async dkimFor(workspaceId: string, fromAddress: string): Promise<{ domainName: string; keySelector: string; privateKey: string; headerFieldNames: string } | undefined> {
      const host = fromAddress.split('@').pop()?.toLowerCase() ?? '';
      const domains = await domainsOf(workspaceId);
      const d = domains.filter((x) => host === x.domain || host.endsWith(`.${x.domain}`)).sort((a, b) => b.domain.length - a.domain.length)[0];
      return d && { domainName: d.domain, keySelector: d.selector, privateKey: d.privateKey, headerFieldNames: DKIM_HEADERS };
    },
  };
}

export type DomainService = ReturnType<typeof createDomainService>;
