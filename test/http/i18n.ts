import test from 'ava';
import { stringKeys, t } from '../../appliance/src/http/i18n.ts';

test('every UI string exists in Swedish and in English', (t_) => {
  const sv = new Set(stringKeys('sv'));
  const en = new Set(stringKeys('en'));
  t_.deepEqual([...sv].filter((k) => !en.has(k)), [], 'keys missing in English');
  t_.deepEqual([...en].filter((k) => !sv.has(k)), [], 'keys missing in Swedish');
});

test('placeholders are filled and Swedish is the default', (t_) => {
  t_.is(t('sv', 'password.too_short', { min: 12 }), 'Det nya lösenordet måste ha minst 12 tecken.');
  t_.is(t('en', 'password.too_short', { min: 12 }), 'The new password must have at least 12 characters.');
});
