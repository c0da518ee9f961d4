// The development sinks of `npm start` without SMTP_URL / SMPP_URL, reached through the same
// adapters that production uses.
import { setTimeout as delay } from 'node:timers/promises';
import test from 'ava';
import smpp from 'smpp';
import { meetingCalendar } from '../../appliance/src/invites/calendar.ts';
import type { DeliveryReceipt } from '../../appliance/src/invites/delivery.ts';
import { startEmbeddedMailSink, startEmbeddedSmsc } from '../../appliance/src/invites/embedded.ts';
import { MailSender } from '../../appliance/src/invites/mail.ts';
import { SmsSender } from '../../appliance/src/invites/sms.ts';
import { present } from '../helpers/present.ts';

test('the mail sink keeps what the mail adapter sends, calendar included', async (t) => {
  const sink = await startEmbeddedMailSink();
  const mail = new MailSender({ url: sink.url, from: 'Samverka <noreply@samverka.local>' });
  t.teardown(async () => {
    mail.close();
    await sink.close();
  });
  t.regex(sink.url, /^smtp:\/\/127\.0\.0\.1:\d+$/);
  await mail.verify();
  const calendar = meetingCalendar({
    uid: 'm-1@samverka.local',
    sequence: 0,
    start: new Date('2026-12-01T09:00:00Z'),
    end: new Date('2026-12-01T09:30:00Z'),
    summary: 'Vårdmöte',
    joinUrl: 'http://localhost:3000/j/abc',
    organizer: { name: 'Barnkliniken', email: 'bk@samverka.local' },
  });
  const sent = await mail.send({
    to: 'gast@example.se',
    subject: 'Inbjudan',
    html: '<p>Hej <a href="http://localhost:3000/j/abc">länk</a></p>',
    text: 'Hej http://localhost:3000/j/abc',
    calendar,
  });
  const captured = present(sink.messages()[0], 'the captured mail');
  t.like(captured, {
    from: 'noreply@samverka.local',
    to: ['gast@example.se'],
    subject: 'Inbjudan',
    messageId: sent.messageId,
    text: 'Hej http://localhost:3000/j/abc',
  });
  t.regex(captured.html ?? '', /href="http:\/\/localhost:3000\/j\/abc"/);
  t.is(captured.calendar?.method, 'REQUEST');
  t.regex(captured.calendar?.content ?? '', /UID:m-1@samverka\.local/);
});

test('the SMSC keeps whole texts, long ones joined, and sends receipts the adapter matches', async (t) => {
  const smsc = await startEmbeddedSmsc();
  const receipts: DeliveryReceipt[] = [];
  const sms = new SmsSender({ url: smsc.url, sender: 'Samverka', throttle: 100, onReceipt: (r) => receipts.push(r) });
  t.teardown(async () => {
    await sms.close();
    await smsc.close();
  });
  const long = `Välkommen till ditt vårdmöte 1 december kl 10.00. ${'Öppna länken i mobilen. '.repeat(8)}`;
  const short = await sms.send({ to: '+46701234567', text: 'Hej Åsa, din kod är 123456' });
  const parts = await sms.send({ to: '+46701234567', text: long });
  const chinese = await sms.send({ to: '+46701234567', text: '你好 😀' });
  t.is(parts.providerIds.length, 2);
  const messages = smsc.messages();
  t.deepEqual(
    messages.map((m) => m.text),
    ['Hej Åsa, din kod är 123456', long, '你好 😀'],
  );
  t.deepEqual(
    messages.map((m) => m.dataCoding),
    [0, 0, 8],
  );
  t.like(messages[0], { from: 'Samverka', to: '46701234567' });
  while (receipts.length < 4) await delay(10);
  const ids = [...short.providerIds, ...parts.providerIds, ...chinese.providerIds];
  t.deepEqual(receipts.map((r) => r.providerId).sort(), [...ids].sort());
  t.true(receipts.every((r) => r.status === 'delivered'));
  t.deepEqual(
    messages.flatMap((m) => m.messageIds),
    ids,
  );
});

test('the sinks keep only the most recent messages', async (t) => {
  const smsc = await startEmbeddedSmsc({ capacity: 3 });
  const sms = new SmsSender({ url: smsc.url, sender: 'Samverka', throttle: 1000 });
  t.teardown(async () => {
    await sms.close();
    await smsc.close();
  });
  await Promise.all([1, 2, 3, 4, 5].map((i) => sms.send({ to: '+46701234567', text: `nr ${i}` })));
  t.deepEqual(
    smsc.messages().map((m) => m.text),
    ['nr 3', 'nr 4', 'nr 5'],
  );
});

test('the SMSC refuses a bind with the wrong password', async (t) => {
  const smsc = await startEmbeddedSmsc();
  const sms = new SmsSender({
    url: smsc.url.replace(/:[0-9a-f]+@/, ':fel@'),
    sender: 'Samverka',
    throttle: 10,
    queueTimeoutMs: 200,
  });
  t.teardown(async () => {
    await sms.close();
    await smsc.close();
  });
  // Queued only once the refusal is in: a busy machine could otherwise let the 200 ms run out first.
  while (!sms.state().lastError) await new Promise((r) => setTimeout(r, 10));
  const error = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }));
  t.regex(error?.message ?? '', /bind refused: ESME_RINVPASWD/);
  t.deepEqual(smsc.messages(), []);
});

/** An ESME of the smpp package's own, bound to the SMSC: it sends exactly the parts a test names. */
async function rawEsme(
  url: string,
): Promise<{ submit(fields: Record<string, unknown>): Promise<number>; close(): void }> {
  const { hostname, port, username, password } = new URL(url);
  const session = smpp.connect({ host: hostname, port: Number(port) });
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) =>
    session.on('connect', () =>
      session.send(new smpp.PDU('bind_transceiver', { system_id: username, password }), (response) =>
        response.command_status === 0 ? resolve() : reject(new Error(`bind: ${response.command_status}`)),
      ),
    ),
  );
  session.on('deliver_sm', (pdu: smpp.PDU) => session.send(pdu.response()));
  return {
    submit: (fields) =>
      new Promise<number>((resolve) =>
        session.send(new smpp.PDU('submit_sm', fields), (response) => resolve(response.command_status)),
      ),
    close: () => session.destroy(),
  };
}

test('the SMSC joins a long text whose part came twice (resent after a lost answer) only once every part is there', async (t) => {
  const smsc = await startEmbeddedSmsc();
  const esme = await rawEsme(smsc.url);
  t.teardown(async () => {
    esme.close();
    await smsc.close();
  });
  const part = (index: number, text: string) => ({
    source_addr: 'Samverka',
    destination_addr: '46701234567',
    esm_class: 0x40,
    data_coding: 0,
    short_message: { udh: Buffer.from([5, 0, 3, 42, 3, index]), message: text },
  });
  t.is(await esme.submit(part(1, 'Ett, ')), 0);
  t.is(await esme.submit(part(1, 'Ett, ')), 0, 'part 1 again: the gateway took it twice');
  t.is(await esme.submit(part(2, 'två, ')), 0);
  t.deepEqual(smsc.messages(), [], 'part 3 has not come: nothing whole yet');
  t.is(await esme.submit(part(3, 'tre.')), 0);
  t.deepEqual(
    smsc.messages().map((m) => m.text),
    ['Ett, två, tre.'],
  );
});
