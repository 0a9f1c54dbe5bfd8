// The quick fault-injection suite: one trial of every fault class against a real
// store with a real backup (`npm run faults` runs many). For each: no read
// (store API, or IMAP FETCH through a real server and TLS session) returns bad bytes, audit detects the fault, repair from the backup makes every
// message byte-identical, and the store equals its backup again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corruptedPage, createTrial, disposeTrial, faultClasses } from './fault-classes.js';

for (const fault of faultClasses) {
  test(`fault: ${fault.name}`, { timeout: 60_000 }, async () => {
    const trial = await createTrial({ mirrored: fault.mirrored });
    try {
      const outcome = await fault.run(trial);
      assert.equal(outcome.badBytesServed, 0, 'a read (store API or IMAP FETCH) returned bad bytes');
      // The IMAP path really ran (a damaged database page refuses SELECT: nothing to read).
      if (fault !== corruptedPage && fault.name !== 'random page damage') assert.ok(outcome.imapBodies > 0, 'IMAP FETCH sent no message body');
      assert.ok(outcome.detected, `not detected: ${outcome.notes.join('; ')}`);
      assert.ok(outcome.repaired, `not repaired: ${outcome.notes.join('; ')}`);
    } finally {
      await disposeTrial(trial);
    }
  });
}
