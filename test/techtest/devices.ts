// The test's answers about the person's own camera, microphone and sound, as the person and staff
// read them afterwards: a good connection does not make a meeting work without a microphone.
import test from 'ava';
import { bookMeeting, chrome, guestEnters, startWorld, techTestResult, type World } from '../connlog/_meeting.ts';

let world: World;
test.before(async () => {
  world = await startWorld();
});
test.after.always(() => world?.stop());

test('a guest who went on without camera and microphone is not told the meeting works on their device, and staff see why', async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  // Permission denied for both ("continue anyway" at each step); the connection itself is good.
  const result = { ...techTestResult, camera: 'unavailable', microphone: 'unavailable', microphoneLevel: null };
  const posted = await guest.request('POST', '/entry/test/results', {
    json: result,
    headers: { 'user-agent': chrome },
  });
  t.is(posted.status, 201);
  t.is(posted.json().verdict, 'good', 'the connection verdict stays the connection’s');

  const waiting = await guest.get('/entry/waiting');
  t.is(waiting.status, 200);
  t.notRegex(waiting.text, /mötet fungerar på den här enheten/);
  t.regex(waiting.text, /kameran och mikrofonen/);

  const page = await booked.clinician.get(`/meetings/${booked.meetingId}`);
  t.regex(page.text, /Tekniskt test: bra[^<]*fungerade inte: kameran och mikrofonen/);

  // Taken again with everything working, the waiting room says so.
  t.is(
    (await guest.request('POST', '/entry/test/results', { json: techTestResult, headers: { 'user-agent': chrome } }))
      .status,
    201,
  );
  t.regex((await guest.get('/entry/waiting')).text, /mötet fungerar på den här enheten/);
});
