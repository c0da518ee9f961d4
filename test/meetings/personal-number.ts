// Personal identity numbers: format, date, Luhn checksum, normalisation, masking, sealing at rest.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { decrypt, encrypt } from '../../appliance/src/crypto.ts';
import { maskPersonalNumber, parsePersonalNumber } from '../../appliance/src/meetings/personal-number.ts';
import { present } from '../helpers/present.ts';

const today = new Date('2026-11-25T12:00:00Z');

test('twelve digits with or without a hyphen are accepted and normalised', (t) => {
  t.deepEqual(parsePersonalNumber('19121212-1212', today), { ok: true, value: '191212121212' });
  t.deepEqual(parsePersonalNumber('191212121212', today), { ok: true, value: '191212121212' });
  t.deepEqual(parsePersonalNumber(' 19121212 1212 ', today), { ok: true, value: '191212121212' });
});

test('ten digits get the century that puts the birth date in the past; "+" means a hundred or older', (t) => {
  t.deepEqual(parsePersonalNumber('121212-1212', today), { ok: true, value: '201212121212' });
  t.deepEqual(parsePersonalNumber('1212121212', today), { ok: true, value: '201212121212' });
  t.deepEqual(parsePersonalNumber('121212+1212', today), { ok: true, value: '191212121212' });
});

test('a ten-digit number born later in the year, a hundred years back, is 99 years old, not unborn', (t) => {
  // 25 November 2026: someone born 15 December 1926 is 99 and writes 261215-1239.
  t.deepEqual(parsePersonalNumber('261215-1239', today), { ok: true, value: '192612151239' });
  t.deepEqual(parsePersonalNumber('2612151239', today), { ok: true, value: '192612151239' });
  // …and with '+' the same digits are someone born in 1826, a hundred and more years ago.
  t.deepEqual(parsePersonalNumber('261215+1239', today), { ok: true, value: '182612151239' });
  // A coordination number (day + 60) is read by its real day, 15 December.
  t.deepEqual(parsePersonalNumber('261275-1236', today), { ok: true, value: '192612751236' });
  // Born earlier this year, or today: this year's child.
  t.deepEqual(parsePersonalNumber('261125-1238', today), { ok: true, value: '202611251238' });
});

test('a wrong check digit, an impossible date or a wrong shape is refused', (t) => {
  t.deepEqual(parsePersonalNumber('19121212-1213', today), { ok: false, problem: 'checksum' });
  t.deepEqual(parsePersonalNumber('19121312-1212', today), { ok: false, problem: 'date' });
  t.deepEqual(parsePersonalNumber('19120230-1212', today), { ok: false, problem: 'date' });
  t.deepEqual(parsePersonalNumber('1912121-1212', today), { ok: false, problem: 'format' });
  t.deepEqual(parsePersonalNumber('19121212+1212', today), { ok: false, problem: 'format' });
  t.deepEqual(parsePersonalNumber('abc', today), { ok: false, problem: 'format' });
});

test('a coordination number (day of birth + 60) is accepted', (t) => {
  t.deepEqual(parsePersonalNumber('19701072-2390', today), { ok: true, value: '197010722390' });
  t.deepEqual(parsePersonalNumber('19701092-2390', today), { ok: false, problem: 'date' });
});

test('the masked form shows the birth date only', (t) => {
  t.is(maskPersonalNumber('191212121212'), '19121212-****');
});

test('a sealed number opens only with the same key and context, and hides the number', (t) => {
  const key = randomBytes(32);
  const sealed = encrypt(key, '191212121212', 'participants.personal_number_sealed');
  t.false(sealed.includes('1212'));
  t.not(sealed, encrypt(key, '191212121212', 'participants.personal_number_sealed'), 'a fresh IV every time');
  t.is(decrypt(key, sealed, 'participants.personal_number_sealed'), '191212121212');
  t.throws(() => decrypt(randomBytes(32), sealed, 'participants.personal_number_sealed'));
  t.throws(() => decrypt(key, sealed, 'participants.proxy_personal_number_sealed'));
  const [v, iv, tag, body] = sealed.split('.');
  const altered = Buffer.from(present(body, 'the ciphertext after the third dot'), 'base64url');
  altered[0] = present(altered[0], 'a first byte of ciphertext') ^ 1;
  t.throws(() =>
    decrypt(key, [v, iv, tag, altered.toString('base64url')].join('.'), 'participants.personal_number_sealed'),
  );
  t.throws(() => encrypt(randomBytes(16), 'x'), { message: /32 bytes/ });
});

test('a twelve-digit number whose birth date lies after today is refused as a date (the century mistyped)', (t) => {
  t.deepEqual(parsePersonalNumber('20261215-1239', today), { ok: false, problem: 'date' });
  t.deepEqual(parsePersonalNumber('19261215-1239', today), { ok: true, value: '192612151239' });
});
