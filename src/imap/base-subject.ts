// The "base subject" of RFC 5256 §2.1, which SORT SUBJECT orders by and THREAD
// groups by: the subject without reply/forward markers, list tags and trailers.
//
//   subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
//   subj-blob  = "[" *BLOBCHAR "]" *WSP          (BLOBCHAR: anything but "[" and "]")
//   subj-leader = (*subj-blob subj-refwd) / WSP
//   subj-trailer = "(fwd)" / WSP
//   subj-fwd = "[fwd:" subject "]"

const trailer = /^(.*?)(?: |\(fwd\))$/is;
const leader = /^(?:(?:\[[^[\]]*\] *)*(?:re|fwd?) *(?:\[[^[\]]*\] *)?:| )/i;
const blob = /^\[[^[\]]*\] */;

export interface BaseSubject {
  /** Compared with i;ascii-casemap (RFC 5256 §3): ASCII letters upper-cased. */
  base: string;
  /** Whether a reply or forward marker was removed (RFC 5256 §2.1 steps 2, 3 and 6; THREAD step 5 uses it). */
  reply: boolean;
}

/** `subject` is already RFC 2047-decoded (step 1's first half; the structure stores it so). */
export function baseSubject(subject: string): BaseSubject {
  // Step 1: tabs and line breaks to spaces, runs of spaces to one.
  let text = subject.replace(/\r?\n/g, '').replace(/[\t ]+/g, ' ');
  let reply = false;
  for (;;) {
    // Step 2: trailing "(fwd)" and white space, repeatedly.
    for (let match = trailer.exec(text); match; match = trailer.exec(text)) {
      if (!text.endsWith(' ')) reply = true;
      text = match[1]!;
    }
    // Steps 3 to 5: leaders, then a leading blob when something is left after it, until neither applies.
    for (;;) {
      const before = text;
      for (let match = leader.exec(text); match; match = leader.exec(text)) {
        if (match[0] !== ' ') reply = true;
        text = text.slice(match[0].length);
      }
      const tag = blob.exec(text);
      if (tag && text.slice(tag[0].length).trim() !== '') text = text.slice(tag[0].length);
      if (text === before) break;
    }
    // Step 6: "[fwd: subject]" is unwrapped and the steps run again.
    if (/^\[fwd:/i.test(text) && text.endsWith(']')) {
      text = text.slice(5, -1);
      reply = true;
      continue;
    }
    break;
  }
  return { base: text.replace(/[a-z]+/g, (letters) => letters.toUpperCase()), reply };
}
