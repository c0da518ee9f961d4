import test from 'ava';
import { stringKeys, t } from '../../appliance/src/http/i18n.ts';

test('every UI string exists in Swedish and in English', (t_) => {
  const sv = new Set(stringKeys('sv'));
  const en = new Set(stringKeys('en'));
  t_.deepEqual([...sv].filter((k) => !en.has(k)), [], 'keys missing in English');
  t_.deepEqual([...en].filter((k) => !sv.has(k)), [], 'keys missing in Swedish');
});

test('placeholders are filled and Swedish is the default', (t_) => {
  t_.is(t('sv', 'home.welcome', { name: 'Åsa' }), 'Välkommen, Åsa.');
  t_.is(t('en', 'home.welcome', { name: 'Åsa' }), 'Welcome, Åsa.');
});
