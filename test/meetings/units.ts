// What is remembered of meetings for their live changes (appliance/src/meetings/units.ts).
import test from 'ava';
import { remembered } from '../../appliance/src/meetings/units.ts';

function counted(answers: Record<string, string | Error | undefined>) {
  const asked: string[] = [];
  const find = async (meetingId: string) => {
    asked.push(meetingId);
    await new Promise((resolve) => setImmediate(resolve));
    const answer = answers[meetingId];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { asked, find };
}

test("a burst of one meeting's reports in one tick reads its unit once", async (t) => {
  const { asked, find } = counted({ m1: 'u1' });
  const unitOf = remembered(find);
  t.deepEqual(await Promise.all([unitOf('m1'), unitOf('m1'), unitOf('m1')]), ['u1', 'u1', 'u1']);
  t.is(await unitOf('m1'), 'u1');
  t.deepEqual(asked, ['m1']);
});

test('a meeting not found, or a lookup that failed, is asked again next time', async (t) => {
  const answers: Record<string, string | Error | undefined> = { gone: undefined, flaky: new Error('database away') };
  const { asked, find } = counted(answers);
  const unitOf = remembered(find);
  t.is(await unitOf('gone'), undefined);
  await t.throwsAsync(unitOf('flaky'), { message: 'database away' });
  answers.gone = 'u2';
  answers.flaky = 'u3';
  t.is(await unitOf('gone'), 'u2');
  t.is(await unitOf('flaky'), 'u3');
  t.deepEqual(asked, ['gone', 'flaky', 'gone', 'flaky']);
});

test('only the most recent meetings are remembered', async (t) => {
  const { asked, find } = counted({ a: 'u', b: 'u', c: 'u' });
  const unitOf = remembered(find, 2);
  for (const id of ['a', 'b', 'c', 'c', 'b', 'a']) await unitOf(id);
  t.deepEqual(asked, ['a', 'b', 'c', 'a']);
});

test('a meeting forgotten (it changed) is asked again, and an answer to a lookup forgotten meanwhile is not kept', async (t) => {
  const answers: Record<string, string | Error | undefined> = { m: 'before' };
  const { asked, find } = counted(answers);
  const audienceOf = remembered(find);
  t.is(await audienceOf('m'), 'before');
  t.is(audienceOf.known('m'), 'before');
  answers.m = 'after';
  t.is(await audienceOf('m'), 'before', 'remembered');
  audienceOf.forget('m');
  t.is(audienceOf.known('m'), undefined);
  const running = audienceOf('m');
  audienceOf.forget('m');
  t.is(await running, 'after');
  t.is(audienceOf.known('m'), undefined, 'the answer of a lookup forgotten meanwhile is not kept');
  answers.m = 'latest';
  t.is(await audienceOf('m'), 'latest', 'asked again');
  t.deepEqual(asked, ['m', 'm', 'm']);
});
