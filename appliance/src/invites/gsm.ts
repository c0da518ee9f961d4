// How an SMS text becomes the bytes of one or more submit_sm PDUs (3GPP TS 23.038 / GSM 03.38).
// Pure functions: sms.ts decides nothing about encoding or splitting itself.
//
// GSM 7-bit is the default alphabet every handset shows; Swedish å ä ö Å Ä Ö é are in it, so an
// ordinary Swedish invitation costs 160 characters per SMS instead of 70 in UCS-2. Septets travel
// unpacked (one octet each), as SMPP carries them with data_coding 0.

/** The basic character set: the character at index n is septet n (0x1B is the escape, not a character). */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

const ESCAPE = 0x1b;

/** The extension table: characters sent as ESC followed by this septet, so each counts 2. */
const EXTENSION: Record<string, number> = {
  '\f': 0x0a,
  '^': 0x14,
  '{': 0x28,
  '}': 0x29,
  '\\': 0x2f,
  '[': 0x3c,
  '~': 0x3d,
  ']': 0x3e,
  '|': 0x40,
  '€': 0x65,
};

const basicSeptet = new Map<string, number>(
  [...BASIC].map((c, i) => [c, i] as [string, number]).filter(([, i]) => i !== ESCAPE),
);

/** Characters per SMS: one part alone, or each part of a concatenated message (the UDH takes 6 octets). */
export const LIMITS = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
} as const;

/** SMPP data_coding: 0 is the SMSC default alphabet (GSM 03.38), 8 is UCS-2. */
export type DataCoding = 0 | 8;

/** Septets one character takes in GSM 7-bit, or undefined when it is not in the alphabet. */
export function septetsOf(char: string): 1 | 2 | undefined {
  if (basicSeptet.has(char)) return 1;
  if (char in EXTENSION) return 2;
  return undefined;
}

/** True when every character of the text is in the GSM 7-bit alphabet (basic or extension table). */
export function isGsm7(text: string): boolean {
  for (const char of text) if (septetsOf(char) === undefined) return false;
  return true;
}

/** Septets the text takes in GSM 7-bit; throws for a character outside the alphabet. */
export function septetCount(text: string): number {
  let count = 0;
  for (const char of text) {
    const septets = septetsOf(char);
    if (septets === undefined) throw new RangeError(`${JSON.stringify(char)} is not in the GSM 7-bit alphabet`);
    count += septets;
  }
  return count;
}

/** The text as unpacked septets, one octet each, escape pairs for extension characters. */
export function encodeGsm7(text: string): Buffer {
  const octets: number[] = [];
  for (const char of text) {
    const basic = basicSeptet.get(char);
    if (basic !== undefined) octets.push(basic);
    else if (EXTENSION[char] !== undefined) octets.push(ESCAPE, EXTENSION[char]);
    else throw new RangeError(`${JSON.stringify(char)} is not in the GSM 7-bit alphabet`);
  }
  return Buffer.from(octets);
}

/** The text as UCS-2 (big-endian UTF-16 code units; a character beyond the BMP is a surrogate pair). */
export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/**
 * Splits a text into parts of at most `limit` units, where `units(char)` says what one character
 * costs. Characters are never cut: an escape pair (2 septets) or a surrogate pair (2 code units)
 * moves whole to the next part rather than straddling two.
 */
function split(text: string, limit: number, units: (char: string) => number): string[] {
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const char of text) {
    const cost = units(char);
    if (used + cost > limit) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += char;
    used += cost;
  }
  parts.push(current);
  return parts;
}

/** GSM 7-bit parts for a text; one part when it fits in 160 septets, else parts of ≤ 153. */
export function splitGsm7(text: string): string[] {
  if (septetCount(text) <= LIMITS.gsm7.single) return [text];
  return split(text, LIMITS.gsm7.part, (char) => septetsOf(char)!);
}

/** UCS-2 parts for a text; one part when it fits in 70 code units, else parts of ≤ 67. */
export function splitUcs2(text: string): string[] {
  if (text.length <= LIMITS.ucs2.single) return [text];
  return split(text, LIMITS.ucs2.part, (char) => char.length);
}

/** What goes on the wire for one text: the data_coding and the encoded short_message of each part. */
export interface EncodedSms {
  dataCoding: DataCoding;
  /** The text of each part, for logs and for the development SMSC's display. */
  texts: string[];
  /** The short_message octets of each part, without the UDH. */
  parts: Buffer[];
  /**
   * What the text costs in its encoding, as the limits count: septets in GSM 7-bit (an extension
   * character such as € two), UTF-16 code units in UCS-2 (a character beyond the BMP, an emoji, two).
   */
  units: number;
}

/**
 * Chooses the encoding and splits the text. The text is first put in composed form (NFC), so
 * an "é" typed as e + combining accent still fits GSM 7-bit instead of forcing UCS-2.
 */
export function encodeSms(text: string): EncodedSms {
  const composed = text.normalize('NFC');
  if (isGsm7(composed)) {
    const texts = splitGsm7(composed);
    return { dataCoding: 0, texts, parts: texts.map(encodeGsm7), units: septetCount(composed) };
  }
  const texts = splitUcs2(composed);
  return { dataCoding: 8, texts, parts: texts.map(encodeUcs2), units: composed.length };
}

/** The concatenation header of part `index` (1-based) of `count`: IEI 0, 8-bit reference. */
export function concatenationUdh(reference: number, count: number, index: number): Buffer {
  return Buffer.from([5, 0, 3, reference & 0xff, count, index]);
}
