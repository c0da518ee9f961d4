import test from 'ava';
import {
  concatenationUdh,
  encodeGsm7,
  encodeSms,
  encodeUcs2,
  isGsm7,
  septetCount,
  splitGsm7,
  splitUcs2,
} from '../../appliance/src/invites/gsm.ts';
import { present } from '../helpers/present.ts';

test('Swedish letters are in the GSM alphabet, Chinese and emoji are not', (t) => {
  t.true(isGsm7('Hej Åsa och Örjan! Välkommen till mötet på Barnkliniken, vån 3. Café é'));
  t.true(isGsm7('Pris: 10 € [inkl. moms] {a|b} ~ ^ \\'));
  t.false(isGsm7('你好'));
  t.false(isGsm7('Välkommen 😀'));
  t.false(isGsm7('Straße ő')); // ß is GSM, ő is not
});

test('the GSM bytes of Swedish letters are those of GSM 03.38', (t) => {
  t.deepEqual([...encodeGsm7('ÅåÄäÖöéÉ@$')], [0x0e, 0x0f, 0x5b, 0x7b, 0x5c, 0x7c, 0x05, 0x1f, 0x00, 0x02]);
  t.deepEqual([...encodeGsm7('Hej!')], [0x48, 0x65, 0x6a, 0x21]);
});

test('extension characters count two septets and are sent as escape pairs', (t) => {
  t.is(septetCount('€'), 2);
  t.is(septetCount('a€[]'), 7);
  t.deepEqual([...encodeGsm7('€[')], [0x1b, 0x65, 0x1b, 0x3c]);
  t.throws(() => septetCount('你'), { instanceOf: RangeError });
});

test('UCS-2 is big-endian and an emoji is a surrogate pair of two units', (t) => {
  t.deepEqual([...encodeUcs2('你a')], [0x4f, 0x60, 0x00, 0x61]);
  t.is(encodeUcs2('😀').length, 4);
});

test('160 septets fit one SMS, 161 take two parts of at most 153', (t) => {
  t.deepEqual(splitGsm7('a'.repeat(160)), ['a'.repeat(160)]);
  const parts = splitGsm7('a'.repeat(161));
  t.deepEqual(
    parts.map((p) => p.length),
    [153, 8],
  );
  t.is(splitGsm7('a'.repeat(306)).length, 2);
  t.is(splitGsm7('a'.repeat(307)).length, 3);
});

test('an escape pair is never split across two parts', (t) => {
  // 152 septets, then € (2 septets) would straddle the 153 boundary: it moves whole to part two.
  const parts = splitGsm7(`${'a'.repeat(152)}€${'b'.repeat(20)}`);
  t.is(parts[0], 'a'.repeat(152));
  t.true(present(parts[1], 'a second part').startsWith('€'));
  for (const part of parts) t.true(septetCount(part) <= 153);
  // With € counting two, 80 of them are 160 septets and still one SMS; 81 are not.
  t.is(splitGsm7('€'.repeat(80)).length, 1);
  t.deepEqual(
    splitGsm7('€'.repeat(81)).map((p) => septetCount(p)),
    [152, 10],
  );
});

test('70 UCS-2 units fit one SMS, more take parts of at most 67, and a surrogate pair is never split', (t) => {
  t.is(splitUcs2('你'.repeat(70)).length, 1);
  t.deepEqual(
    splitUcs2('你'.repeat(71)).map((p) => p.length),
    [67, 4],
  );
  const parts = splitUcs2(`${'你'.repeat(66)}😀😀😀`);
  t.is(parts[0], '你'.repeat(66));
  t.is(parts[1], '😀😀😀');
  for (const part of parts) t.false(/[\ud800-\udbff]$/.test(part), 'no part ends in a lone high surrogate');
});

test('a text chooses GSM when it can and UCS-2 when it must', (t) => {
  const swedish = encodeSms('Hej Åsa! Välkommen.');
  t.is(swedish.dataCoding, 0);
  t.deepEqual(swedish.parts, [encodeGsm7('Hej Åsa! Välkommen.')]);
  const chinese = encodeSms('Hej 你好');
  t.is(chinese.dataCoding, 8);
  t.deepEqual(chinese.parts, [encodeUcs2('Hej 你好')]);
});

test('a decomposed é (e + combining accent) still fits GSM', (t) => {
  const sms = encodeSms('Cafe\u0301');
  t.is(sms.dataCoding, 0);
  t.deepEqual([...present(sms.parts[0], 'the one part')].slice(-1), [0x05]);
});

test('the concatenation header names reference, count and index', (t) => {
  t.deepEqual([...concatenationUdh(300, 2, 1)], [5, 0, 3, 44, 2, 1]);
});
