// Random sequences of store operations, checked against the invariants the rest
// of Postkeep depends on (DESIGN.md invariants 3 and 4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PostkeepError } from '../../src/errors.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

const mailboxNames = ['INBOX', 'Archive', 'Trash'] as const;
const flagChoices = ['\\Seen', '\\Flagged', '\\Deleted', 'Work', 'todo'] as const;

const uidSet = fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(Infinity))), { minLength: 1, maxLength: 3 });
const operation = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), mailbox: fc.constantFrom(...mailboxNames), duplicate: fc.boolean(), flags: fc.subarray([...flagChoices]) }),
  fc.record({ kind: fc.constant('flags' as const), mailbox: fc.constantFrom(...mailboxNames), uids: uidSet, mode: fc.constantFrom('add' as const, 'remove' as const, 'replace' as const), flags: fc.subarray([...flagChoices]), conditional: fc.boolean() }),
  fc.record({ kind: fc.constant('copy' as const), mailbox: fc.constantFrom(...mailboxNames), uids: uidSet, destination: fc.constantFrom(...mailboxNames) }),
  fc.record({ kind: fc.constant('move' as const), mailbox: fc.constantFrom(...mailboxNames), uids: uidSet, destination: fc.constantFrom(...mailboxNames) }),
  fc.record({ kind: fc.constant('expunge' as const), mailbox: fc.constantFrom(...mailboxNames) }),
  fc.record({ kind: fc.constant('undelete' as const) }),
  fc.record({ kind: fc.constant('collect' as const), daysLater: fc.constantFrom(0, 8) }),
);

test('store invariants hold under random operation sequences', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
      const fixture: TemporaryStore = await createTemporaryStore({ retentionDays: 7 });
      try {
        const repeated = sampleMessage({ subject: 'same bytes every time', messageId: '<same@example.com>' });
        const seenUids = new Map<string, Set<number>>();
        let lastModseq = 0;
        const largestUid = new Map<string, number>();
        for (const step of operations) {
          const ids = new Map<string, string>();
          for (const name of mailboxNames) ids.set(name, (await fixture.account.getMailbox(name)).id);
          try {
            if (step.kind === 'append') {
              const result = await fixture.account.append(step.mailbox, step.duplicate ? repeated : sampleMessage(), { flags: step.flags });
              const uids = seenUids.get(step.mailbox) ?? new Set();
              assert.ok(!uids.has(result.uid), 'a UID is never handed out twice under one UIDVALIDITY');
              assert.ok(result.uid > (largestUid.get(step.mailbox) ?? 0), 'UIDs strictly increase');
              uids.add(result.uid);
              seenUids.set(step.mailbox, uids);
              largestUid.set(step.mailbox, result.uid);
            } else if (step.kind === 'flags') {
              await fixture.account.updateFlags(ids.get(step.mailbox)!, step.uids, { mode: step.mode, flags: step.flags, unchangedSince: step.conditional ? lastModseq - 1 : undefined });
            } else if (step.kind === 'copy' || step.kind === 'move') {
              const result = step.kind === 'copy'
                ? await fixture.account.copy(ids.get(step.mailbox)!, step.uids, step.destination)
                : await fixture.account.move(ids.get(step.mailbox)!, step.uids, step.destination);
              for (const pair of result.pairs) {
                const uids = seenUids.get(step.destination) ?? new Set();
                assert.ok(!uids.has(pair.destination));
                assert.ok(pair.destination > (largestUid.get(step.destination) ?? 0));
                uids.add(pair.destination);
                seenUids.set(step.destination, uids);
                largestUid.set(step.destination, pair.destination);
              }
            } else if (step.kind === 'expunge') {
              await fixture.account.expunge(ids.get(step.mailbox)!);
            } else if (step.kind === 'undelete') {
              await fixture.store.admin.undelete('alice@example.com');
              // Restored messages took new UIDs: learn them so later checks stay exact.
              for (const name of mailboxNames) {
                const records = await fixture.account.fetch(ids.get(name)!, { uids: [[1, Infinity]] });
                for (const record of records) (seenUids.get(name) ?? seenUids.set(name, new Set()).get(name)!).add(record.uid);
                if (records.length) largestUid.set(name, Math.max(largestUid.get(name) ?? 0, records[records.length - 1]!.uid));
              }
            } else {
              await fixture.store.admin.collectGarbage(new Date(Date.now() + step.daysLater * 86_400_000));
            }
          } catch (error) {
            // Refusals (moving into the same mailbox) are part of the contract; anything else is a bug.
            if (!(error instanceof PostkeepError)) throw error;
          }
          const changes = await fixture.account.changesSince(null, 0);
          for (let index = 1; index < changes.length; index++) assert.ok(changes[index]!.modseq >= changes[index - 1]!.modseq, 'MODSEQ never goes back');
          const modseq = changes[changes.length - 1]!.modseq;
          assert.ok(modseq >= lastModseq);
          lastModseq = modseq;
          assert.deepEqual(await fixture.store.checkConsistency(), [], 'digests, counters, quota usage and refcounts equal their recomputation');
          const quota = await fixture.account.quota();
          let total = 0;
          for (const name of mailboxNames) total += (await fixture.account.fetch(ids.get(name)!, { uids: [[1, Infinity]] })).reduce((sum, record) => sum + record.size, 0);
          assert.equal(quota.storage.used, total, 'quota usage is the sum of the sizes');
        }
        // Every remaining message still reads back and matches its hash.
        for (const name of mailboxNames) {
          const id = (await fixture.account.getMailbox(name)).id;
          for (const record of await fixture.account.fetch(id, { uids: [[1, Infinity]] })) await fixture.account.readMessage(id, record.uid);
        }
      } finally {
        await fixture.dispose();
      }
    }),
    { numRuns: 40 },
  );
});
