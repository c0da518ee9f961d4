import test from 'ava';
import type { Request } from '@hapi/hapi';
import { languageOf, speakBookedLanguage, stringKeys, t } from '../../appliance/src/http/i18n.ts';

test('every UI string exists in Swedish and in English', (t_) => {
  const sv = new Set(stringKeys('sv'));
  const en = new Set(stringKeys('en'));
  t_.deepEqual(
    [...sv].filter((k) => !en.has(k)),
    [],
    'keys missing in English',
  );
  t_.deepEqual(
    [...en].filter((k) => !sv.has(k)),
    [],
    'keys missing in Swedish',
  );
});

test('placeholders are filled and Swedish is the default', (t_) => {
  t_.is(t('sv', 'password.too_short', { min: 12 }), 'Det nya lösenordet måste ha minst 12 tecken.');
  t_.is(t('en', 'password.too_short', { min: 12 }), 'The new password must have at least 12 characters.');
});

test("a participant's page speaks their booked language until they choose one with the switch", (t_) => {
  const request = (cookie?: string) => ({ state: cookie ? { lang: cookie } : {}, app: {} }) as unknown as Request;
  const fresh = request();
  t_.is(languageOf(fresh), 'sv', 'nobody known yet: Swedish');
  speakBookedLanguage(fresh, 'en');
  t_.is(languageOf(fresh), 'en', 'booked in English');
  const chose = request('sv');
  speakBookedLanguage(chose, 'en');
  t_.is(languageOf(chose), 'sv', 'the switch wins over the booking');
  const unknown = request();
  speakBookedLanguage(unknown, undefined);
  t_.is(languageOf(unknown), 'sv');
});
