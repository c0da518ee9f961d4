// Shared by the connlog and evaluation tests: a real SMTP relay and SMSC, a server sending through
// them, a meeting booked through the API with a patient by SMS and a guest by e-mail (each test with
// its own addresses), and the guest's and the patient's ways in through the links they were sent.
import { randomInt } from 'node:crypto';
import { booking, loggedIn } from '../meetings/_booking.ts';
import type { Client } from '../helpers/server.ts';
import { startStage, type Stage } from '../helpers/stage.ts';
import { delivered, type Arrival } from '../helpers/smsc.ts';

export const chrome =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** A relay and an SMSC that confirms every message's delivery: what the routine's messages go through. */
export const worldParts = { relay: true, smsc: delivered('m') } as const;
export type World = Stage<typeof worldParts>;

export const startWorld = (env: Record<string, string> = {}): Promise<World> => startStage({ ...worldParts, env });

import { present } from '../helpers/present.ts';
import { mailedPath, until } from '../helpers/wait.ts';

export { until };

const textOf = (a: Arrival) => {
  const sm = a.pdu.short_message as { message?: string } | string;
  return typeof sm === 'string' ? sm : String(sm.message ?? '');
};

export const smsTo = (world: World, e164: string) =>
  world.smsc.arrivals.filter((a) => a.pdu.destination_addr === e164.replace('+', '')).map(textOf);
export const mailsTo = (world: World, address: string) =>
  world.relay.received.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address));

export interface Booked {
  meetingId: string;
  patientId: string;
  guestId: string;
  /** The patient's mobile as typed at booking ("070-…") and as stored (E.164). */
  patientMobile: string;
  patientE164: string;
  guestEmail: string;
  clinician: Client;
}

export async function bookMeeting(world: World, overrides: Record<string, unknown> = {}): Promise<Booked> {
  const { client } = await loggedIn(world.app);
  const subscriber = String(randomInt(1_000_000, 9_999_999));
  const patientMobile = `070${subscriber}`;
  const guestEmail = `eva.${Math.random().toString(36).slice(2)}@skola.example`;
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        { kind: 'patient', name: 'Sara Lind', mobile: patientMobile, identification: 'sms' },
        { kind: 'guest', name: 'Lärare Eva Ek', email: guestEmail, identification: 'none' },
      ],
      ...overrides,
    }),
  });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.text}`);
  const meeting = reply.json();
  return {
    meetingId: meeting.id,
    patientId: meeting.participants[0].id,
    guestId: meeting.participants[1]?.id ?? '',
    patientMobile,
    patientE164: `+4670${subscriber}`,
    guestEmail,
    clinician: client,
  };
}

/** The guest follows the link in their invitation mail and types their name: a guest session. */
export async function guestEnters(world: World, booked: Booked): Promise<Client> {
  const path = await mailedPath(world.relay, booked.guestEmail);
  const guest = world.app.client();
  await guest.get(path, { 'user-agent': chrome });
  const reply = await guest.request('POST', '/j', {
    form: { crumb: guest.crumb ?? '', token: path.slice(3), name: 'Lärare Eva Ek' },
    headers: { 'user-agent': chrome },
  });
  // The name accepted: the answer is the technical test page itself.
  if (reply.status !== 200 || !reply.text.includes('Starta testet'))
    throw new Error(`the name check failed: ${reply.status}`);
  return guest;
}

/**
 * The patient's way in: the link in their SMS, their name, then the code that follows by SMS. `as`
 * names someone else reached the same way (a patient's proxy: their number and name).
 */
export async function patientEnters(
  world: World,
  booked: Booked,
  as: { e164: string; name: string } = { e164: booked.patientE164, name: 'Sara Lind' },
): Promise<Client> {
  const invitation = await until(`the invitation to ${as.e164}`, () =>
    smsTo(world, as.e164)
      .join('')
      .match(/http:\/\/[^/\s]+(\/j\/[\w-]{24,})/),
  );
  const path = present(invitation[1], 'the link in the invitation SMS');
  const patient = world.app.client();
  await patient.get(path, { 'user-agent': chrome });
  const reply = await patient.request('POST', '/j', {
    form: { crumb: patient.crumb ?? '', token: path.slice(3), name: as.name },
    headers: { 'user-agent': chrome },
  });
  if (reply.status !== 302) throw new Error(`the name check failed: ${reply.status}`);
  await patient.get('/entry/code');
  const sms = await until('the code', () => smsTo(world, as.e164).find((x) => x.startsWith('Din kod')));
  const code = present(/: (\d{6})\./.exec(sms)?.[1], 'the six digits in the SMS');
  const entered = await patient.request('POST', '/entry/code', { form: { crumb: patient.crumb ?? '', code } });
  // The right code leads straight on to the person's next step: the test (answered at once), or
  // the waiting room.
  const next = entered.headers.get('location') ?? '';
  const onToTest = entered.status === 200 && entered.text.includes('Starta testet');
  if (!onToTest && (entered.status !== 302 || next !== '/entry/waiting'))
    throw new Error(`the code was refused: ${entered.status} ${next}`);
  return patient;
}

export const techTestResult = {
  camera: 'yes',
  microphone: 'detected',
  microphoneLevel: 0.2,
  sound: 'yes',
  network: { relayConfigured: false, rttMs: 42, jitterMs: 3, loss: 0, downloadKbps: 25_000, uploadKbps: 9_000 },
};
