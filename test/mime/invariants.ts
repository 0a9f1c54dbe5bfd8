// Checks every structure must satisfy, whatever the input: offsets within
// [0, size], monotone, children inside their parent's body and in order,
// an enclosed message covering exactly its part's body.

import assert from 'node:assert/strict';
import type { BodyPart, MessageStructure } from '../../src/mime/structure.js';

export function checkInvariants(structure: MessageStructure, message: Buffer): void {
  assert.equal(structure.version, 1);
  assert.equal(structure.size, message.length);
  assert.equal(structure.root.headerStart, 0);
  assert.equal(structure.root.end, message.length);
  checkPart(structure.root, message.length);
}

function checkPart(part: BodyPart, size: number): void {
  assert.ok(0 <= part.headerStart, 'headerStart >= 0');
  assert.ok(part.headerStart <= part.bodyStart, `headerStart ${part.headerStart} <= bodyStart ${part.bodyStart}`);
  assert.ok(part.bodyStart <= part.end, `bodyStart ${part.bodyStart} <= end ${part.end}`);
  assert.ok(part.end <= size, 'end <= size');
  assert.ok(Number.isInteger(part.lines) && part.lines >= 0, 'lines is a count');
  assert.ok(part.lines <= part.end - part.bodyStart, 'no more lines than bytes');
  assert.equal(part.type, part.type.toLowerCase());
  assert.equal(part.subtype, part.subtype.toLowerCase());
  let previousFieldEnd = part.headerStart;
  for (const field of part.headers) {
    assert.equal(field.name, field.name.toLowerCase());
    assert.ok(previousFieldEnd <= field.start && field.start < field.end && field.end <= part.bodyStart, `header field ${field.name} inside the header`);
    previousFieldEnd = field.end;
  }
  let previousEnd = part.bodyStart;
  for (const child of part.children) {
    assert.ok(child.headerStart >= previousEnd, 'children in order, not overlapping');
    assert.ok(child.end <= part.end, 'child inside parent');
    checkPart(child, size);
    previousEnd = child.end;
  }
  if (part.message !== null) {
    assert.equal(part.children.length, 0);
    assert.equal(part.message.root.headerStart, part.bodyStart, 'enclosed message starts at the body');
    assert.equal(part.message.root.end, part.end, 'enclosed message ends with the body');
    checkPart(part.message.root, size);
  }
}
