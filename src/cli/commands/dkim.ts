import type { Command } from 'commander';
import { dkimTxtRecord, generateDkimKey } from '../../smtp/outbound/dkim-signature.js';
import { InvalidInput } from '../../errors.js';
import { action, withStore, type GlobalOptions } from '../session.js';
import { quotedTxtStrings } from '../txt-record.js';

export function registerDkim(program: Command): void {
  const dkim = program.command('dkim').description('DKIM signing keys for outgoing mail');
  dkim
    .command('generate <domain>')
    .description('make a new RSA-2048 signing key for a domain (replacing any old one) and print the DNS TXT record to publish')
    .option('--selector <selector>', 'the DKIM selector', `pk${new Date().toISOString().slice(0, 7).replace('-', '')}`)
    .action(
      action(async (domain: string, options: { selector: string }) => {
        const key = generateDkimKey();
        const local = domain.trim().toLowerCase().replace(/\.$/, '');
        await withStore(program.opts<GlobalOptions>(), async ({ store }) => {
          // Only mail from a local domain is signed: a key for another would never be used.
          if (!(await store.admin.listDomains()).some((item) => item.name === local)) {
            throw new InvalidInput(`${local} is not a local domain: add it first with \`postkeep domain add ${local}\``);
          }
          await store.dkimKeys.set({ domain, selector: options.selector, privateKey: key.privateKey });
        });
        const name = `${options.selector}._domainkey.${local}`;
        process.stdout.write(
          `Publish this TXT record (strings of at most 255 bytes, which DNS joins into one), then mail from ${local} is signed:\n` +
            `${name}. IN TXT ${quotedTxtStrings(dkimTxtRecord(key.publicKeyBase64))}\n`,
        );
      }),
    );
  dkim
    .command('list')
    .description('list the domains with a signing key and their selectors')
    .action(
      action(async () => {
        const keys = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.dkimKeys.list());
        for (const key of keys) process.stdout.write(`${key.domain} ${key.selector}\n`);
      }),
    );
}
