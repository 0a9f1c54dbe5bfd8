// The two THREAD algorithms of RFC 5256 §3 over plain message facts, and the
// thread-list syntax of its §4 (`(3 6 (4 23)(44 7 96))`).
import { baseSubject } from './base-subject.js';

export interface ThreadMessage {
  /** What the response names the message by: its sequence number or UID. */
  number: number;
  /** The sequence number: the last tie-breaker, and the order of "first" and "subsequent" in §2.2. */
  order: number;
  /** The sent date (Date: header, else INTERNALDATE), ms since the epoch. */
  date: number;
  messageId: string | null;
  references: string[];
  inReplyTo: string[];
  /** RFC 2047-decoded subject. */
  subject: string;
}

interface Container {
  message: ThreadMessage | null;
  parent: Container | null;
  children: Container[];
}

/** Sent date, then sequence number; a dummy counts as its first child (§2.2 step 6). */
function sortKey(container: Container): [number, number] {
  let node = container;
  while (!node.message && node.children.length > 0) node = node.children[0]!;
  return node.message ? [node.message.date, node.message.order] : [Infinity, Infinity];
}

function byDate(a: Container, b: Container): number {
  const [dateA, orderA] = sortKey(a);
  const [dateB, orderB] = sortKey(b);
  return dateA - dateB || orderA - orderB;
}

/** Step 6: children before parents, so that a dummy's first child is known when it is placed. */
function sortTree(siblings: Container[]): void {
  for (const container of siblings) sortTree(container.children);
  siblings.sort(byDate);
}

function render(container: Container): string {
  const children = container.children;
  if (!container.message) {
    if (children.length === 1) return render(children[0]!);
    return children.map((child) => `(${render(child)})`).join('');
  }
  const number = String(container.message.number);
  if (children.length === 0) return number;
  if (children.length === 1) return `${number} ${render(children[0]!)}`;
  return `${number} ${children.map((child) => `(${render(child)})`).join('')}`;
}

function renderThreads(roots: Container[]): string {
  return roots.map((root) => `(${render(root)})`).join('');
}

/** Whether `ancestor` is `node` or one of its ancestors. */
function isAncestor(ancestor: Container, node: Container): boolean {
  for (let current: Container | null = node; current; current = current.parent) if (current === ancestor) return true;
  return false;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  const parent = child.parent;
  if (!parent) return;
  parent.children.splice(parent.children.indexOf(child), 1);
  child.parent = null;
}

/** Step 4: dummies without children go; a dummy's children take its place, except several at the root. */
function prune(siblings: Container[], root: boolean): Container[] {
  const kept: Container[] = [];
  for (const container of siblings) {
    container.children = prune(container.children, false);
    for (const child of container.children) child.parent = container;
    if (!container.message) {
      if (container.children.length === 0) continue;
      if (!root || container.children.length === 1) {
        kept.push(...container.children);
        continue;
      }
    }
    kept.push(container);
  }
  return kept;
}

function threadSubject(container: Container): { base: string; reply: boolean } {
  const message = container.message ?? container.children[0]?.message ?? null;
  return message ? baseSubject(message.subject) : { base: '', reply: false };
}

/** Step 5: root threads with the same base subject are gathered under one. */
function mergeBySubject(roots: Container[]): Container[] {
  const table = new Map<string, Container>();
  for (const container of roots) {
    const { base } = threadSubject(container);
    if (base === '') continue;
    const held = table.get(base);
    if (!held) table.set(base, container);
    else if (held.message && (!container.message || (threadSubject(held).reply && !threadSubject(container).reply))) table.set(base, container);
  }
  const result: Container[] = [];
  const replaced = new Map<Container, Container>();
  for (const container of roots) {
    // A root the table already put under a new dummy is where that dummy goes.
    const substitute = replaced.get(container);
    if (substitute) {
      result.push(substitute);
      continue;
    }
    const subject = threadSubject(container);
    const held = subject.base === '' ? undefined : table.get(subject.base);
    if (!held || held === container) {
      result.push(container);
      continue;
    }
    if (!held.message && !container.message) {
      for (const child of container.children) link(held, child);
      container.children = [];
    } else if (!held.message) {
      link(held, container);
    } else if (subject.reply && !threadSubject(held).reply) {
      link(held, container);
    } else {
      // Neither is more the parent: both go under a new dummy, which takes the table's place.
      const dummy: Container = { message: null, parent: null, children: [] };
      const position = result.indexOf(held);
      link(dummy, held);
      link(dummy, container);
      table.set(subject.base, dummy);
      if (position >= 0) result[position] = dummy;
      else replaced.set(held, dummy);
    }
  }
  return result;
}

/** THREAD=REFERENCES, RFC 5256 §3 and §2.2 (the JWZ algorithm). `messages` in sequence order. */
export function threadByReferences(messages: readonly ThreadMessage[]): string {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (id: string): Container => {
    let container = byId.get(id);
    if (!container) {
      // Step 1A: an ID no message has yet gets a dummy, used for every later reference to it.
      container = { message: null, parent: null, children: [] };
      byId.set(id, container);
      all.push(container);
    }
    return container;
  };
  for (const message of [...messages].sort((a, b) => a.order - b.order)) {
    let own: Container;
    const known = message.messageId === null ? undefined : byId.get(message.messageId);
    if (message.messageId !== null && (!known || !known.message)) {
      own = containerFor(message.messageId);
      own.message = message;
    } else {
      // No Message-ID, or one a message with a lower sequence number already has: a unique one.
      own = { message, parent: null, children: [] };
      all.push(own);
    }
    // §2.2 step 1: References, or without them the first Message-ID of In-Reply-To.
    const references = message.references.length > 0 ? message.references : message.inReplyTo.slice(0, 1);
    const chain = references.map(containerFor);
    for (let index = 0; index + 1 < chain.length; index++) {
      const parent = chain[index]!;
      const child = chain[index + 1]!;
      // Step 1A: an existing link stays; no link may make a loop.
      if (child.parent || isAncestor(child, parent)) continue;
      link(parent, child);
    }
    // Step 1B: the last reference is the parent, replacing any earlier link, unless that makes a loop.
    unlink(own);
    const last = chain.at(-1);
    if (last && !isAncestor(own, last)) link(last, own);
  }
  let roots = prune(all.filter((container) => container.parent === null), true);
  for (const root of roots) root.parent = null;
  sortTree(roots);
  roots = mergeBySubject(roots);
  sortTree(roots);
  return renderThreads(roots);
}

/** THREAD=ORDEREDSUBJECT, RFC 5256 §3: one thread per base subject, the first by date its parent, the rest its children. */
export function threadByOrderedSubject(messages: readonly ThreadMessage[]): string {
  const groups = new Map<string, Container>();
  const roots: Container[] = [];
  const sorted = [...messages].sort((a, b) => a.date - b.date || a.order - b.order);
  for (const message of sorted) {
    const { base } = baseSubject(message.subject);
    const container: Container = { message, parent: null, children: [] };
    const first = groups.get(base);
    if (first) link(first, container);
    else {
      groups.set(base, container);
      roots.push(container);
    }
  }
  return renderThreads(roots);
}
