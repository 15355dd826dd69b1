/**
 * Characters that a reviewer cannot see, or that reorder what they see (the "Trojan
 * Source" bidi controls), are shown as ⟨U+XXXX⟩ markers so a report never displays SQL
 * or a script differently from what will run. A carriage return counts unless it ends a
 * CRLF line (alone it would overprint a line in a terminal). NUL makes content binary instead.
 */
const HIDDEN = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|\r(?!\n)/gu;

export interface TextSegment {
  text: string;
  hidden: boolean;
}

export function countHidden(text: string): number {
  return text.match(HIDDEN)?.length ?? 0;
}

export function hiddenMarker(char: string): string {
  return `⟨U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** The text cut into visible runs and markers for hidden characters. */
export function visibleSegments(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(HIDDEN)) {
    if (match.index > last) segments.push({ text: text.slice(last, match.index), hidden: false });
    segments.push({ text: hiddenMarker(match[0]), hidden: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), hidden: false });
  return segments;
}

/** The text with hidden characters replaced by their markers. */
export function visibleText(text: string): string {
  return text.replace(HIDDEN, hiddenMarker);
}
