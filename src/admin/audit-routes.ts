// Audit status, bounded so a monitoring poll stays cheap: the metadata consistency
// check (derived values against their sources, no blob reads — `postkeep audit`
// reads every byte), the latest integrity events from the security log, and the
// security log's head against its anchor. `?chain=full` also walks the whole chain.
import { readAnchorRecord } from '../security-log/anchor.js';
import { historyItem } from '../security-log/login-history.js';
import { verifySecurityLog } from '../security-log/verify.js';
import type { Route } from './admin-routes.js';

const reportedProblems = 50;
const reportedEvents = 20;

export const auditRoutes: Route[] = [
  {
    method: 'GET',
    path: '/audit',
    action: 'audit_status',
    async handle({ store, anchorFile }, request) {
      const inconsistencies = await store.checkConsistency();
      const integrityEvents = (await store.admin.readSecurityLog({ eventPrefixes: ['integrity.'], newestFirst: true, limit: reportedEvents })).map(historyItem);
      let securityLog: unknown;
      if (request.query.get('chain') === 'full') {
        const report = await verifySecurityLog(store.admin, anchorFile);
        securityLog = { checked: 'full', ok: report.ok, entries: report.entries, head: report.head, problems: report.problems, problemCount: report.problemCount };
      } else {
        const [head] = await store.admin.readSecurityLog({ newestFirst: true, limit: 1 });
        const record = await readAnchorRecord(anchorFile).catch(() => null);
        const entryAt = async (sequence: number) => (await store.admin.readSecurityLog({ afterSequence: sequence - 1, limit: 1 })).find((entry) => entry.sequence === sequence) ?? null;
        // The anchored entry must be in place with its hash (a head behind it means entries
        // were cut off the end), and no earlier cut may stand (see anchor.ts): a few reads.
        const anchored = record ? await entryAt(record.anchor.sequence) : null;
        const lost = [];
        for (const item of record?.lost ?? []) if ((await entryAt(item.sequence))?.hash !== item.hash) lost.push(item);
        const ok = (record === null ? head === undefined : anchored?.hash === record.anchor.hash) && lost.length === 0;
        securityLog = { checked: 'head', ok, head: head ? { sequence: head.sequence, hash: head.hash } : null, anchor: record?.anchor ?? null, lost };
      }
      return {
        body: {
          consistency: { ok: inconsistencies.length === 0, problemCount: inconsistencies.length, problems: inconsistencies.slice(0, reportedProblems) },
          integrityEvents,
          securityLog,
        },
      };
    },
  },
];
