// THREAD and UID THREAD — RFC 5256 §3: ORDEREDSUBJECT, and REFERENCES in a simplified
// form (parents from References/In-Reply-To among the matching messages; the
// subject-merging steps of §2.2 (5) are not done yet). Selected state.
import type { MessageRecord } from '../../store/types.js';
import { ImapReply, no } from '../response.js';
import { defineCommand, selectedState } from './command.js';
import { searchRecords } from './search.js';
import { baseSubject } from './sort.js';

interface Node {
  record: MessageRecord;
  number: number;
  date: number;
  children: Node[];
}

const byDate = (a: Node, b: Node) => a.date - b.date || a.number - b.number;

function render(node: Node): string {
  const children = node.children.sort(byDate);
  if (children.length === 0) return String(node.number);
  if (children.length === 1) return `${node.number} ${render(children[0]!)}`;
  return `${node.number} ${children.map((child) => `(${render(child)})`).join('')}`;
}

export default defineCommand({
  name: 'THREAD',
  states: selectedState,
  async handler(session, command) {
    const algorithm = command.algorithm.toUpperCase();
    if (algorithm !== 'ORDEREDSUBJECT' && algorithm !== 'REFERENCES') throw no(`unsupported threading algorithm ${algorithm}`, 'CANNOT');
    const found = await searchRecords(session, command.query, { withStructure: true });
    const nodes: Node[] = found.map((record) => ({
      record,
      number: command.uid ? record.uid : session.sequenceOf(record.uid),
      date: record.structure?.sentDate ?? record.internalDate.getTime(),
      children: [],
    }));
    const roots: Node[] = [];
    if (algorithm === 'ORDEREDSUBJECT') {
      // §3: messages with the same base subject; the first by date is the parent of all others.
      const groups = new Map<string, Node[]>();
      for (const node of nodes) {
        const subject = baseSubject(node.record.structure?.subject ?? '');
        const group = groups.get(subject) ?? [];
        group.push(node);
        groups.set(subject, group);
      }
      for (const group of groups.values()) {
        group.sort(byDate);
        const [first, ...rest] = group;
        first!.children = rest;
        roots.push(first!);
      }
    } else {
      const byMessageId = new Map<string, Node>();
      for (const node of nodes) {
        const id = node.record.structure?.messageId;
        if (id && !byMessageId.has(id)) byMessageId.set(id, node);
      }
      for (const node of nodes) {
        const structure = node.record.structure;
        const candidates = [...(structure?.references ?? []), ...(structure?.inReplyTo ?? [])].reverse();
        const parent = candidates.map((id) => byMessageId.get(id)).find((found) => found && found !== node && !isDescendant(node, found));
        if (parent) parent.children.push(node);
        else roots.push(node);
      }
    }
    const threads = roots.sort(byDate).map((root) => `(${render(root)})`).join('');
    await session.writer.untagged(`THREAD${threads ? ' ' + threads : ''}`);
    return new ImapReply('OK', `${command.uid ? 'UID THREAD' : 'THREAD'} completed`);
  },
});

// A reference loop must not make a message its own ancestor.
function isDescendant(ancestor: Node, node: Node): boolean {
  const stack = [...ancestor.children];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next === node) return true;
    stack.push(...next.children);
  }
  return false;
}
