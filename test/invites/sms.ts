// The SMS adapter against the smpp package's real server, started here on a free port: real
// binds, real PDUs on a socket, receipts sent back as deliver_sm.
import { mock } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import smpp from 'smpp';
import {
  type DeliveryReceipt,
  PartlySent,
  PermanentFailure,
  TemporaryFailure,
} from '../../appliance/src/invites/delivery.ts';
import {
  describeStatus,
  normaliseMessageId,
  parseReceipt,
  type SmsMessage,
  SmsSender,
  type SmsOptions,
} from '../../appliance/src/invites/sms.ts';
import { type Arrival, startSmsc, type TestSmsc } from '../helpers/smsc.ts';
import { present } from '../helpers/present.ts';
import { makeCertificates } from '../helpers/tls.ts';
import { until } from '../helpers/wait.ts';

/** Stops the adapter, then the SMSC, when the test ends. */
function cleanup(t: ExecutionContext, sms: SmsSender, ...servers: (() => TestSmsc)[]): void {
  t.teardown(async () => {
    await sms.close();
    await Promise.all(servers.map((s) => s().close()));
  });
}

async function setup(t: ExecutionContext, answer?: Parameters<typeof startSmsc>[0], options: Partial<SmsOptions> = {}) {
  const smsc = await startSmsc(answer);
  const sms = new SmsSender({ url: smsc.url, sender: 'Samverka', throttle: 1000, ...options });
  cleanup(t, sms, () => smsc);
  return { smsc, sms };
}

/** What the outbox does with a temporary failure: try again a little later. */
async function sendLikeTheOutbox(sms: SmsSender, message: SmsMessage): Promise<{ providerIds: string[] }> {
  for (;;) {
    try {
      return await sms.send(message);
    } catch (error) {
      if (!(error instanceof TemporaryFailure)) throw error;
      await delay(50);
    }
  }
}

/** The concatenation header of a part: [5, 0, 3, ref, count, index]. */
function udhOf(arrival: Arrival): number[] {
  return [...arrival.octets.subarray(0, 6)];
}

test('a Swedish text arrives with data_coding 0 and the right GSM bytes', async (t) => {
  const { smsc, sms } = await setup(t);
  const sent = await sms.send({ to: '+46 70-123 45 67', text: 'Hej Åsa! Mötet är på vån 3. Pris 0 €' });
  t.is(sent.providerIds.length, 1);
  const arrival = present(smsc.arrivals[0], 'the submit_sm');
  t.is(arrival.pdu.data_coding, 0);
  t.deepEqual(
    [...arrival.octets],
    [
      0x48,
      0x65,
      0x6a,
      0x20,
      0x0e,
      0x73,
      0x61,
      0x21,
      0x20, // "Hej Åsa! "
      0x4d,
      0x7c,
      0x74,
      0x65,
      0x74,
      0x20,
      0x7b,
      0x72,
      0x20,
      0x70,
      0x0f,
      0x20, // "Mötet är på "
      0x76,
      0x0f,
      0x6e,
      0x20,
      0x33,
      0x2e,
      0x20, // "vån 3. "
      0x50,
      0x72,
      0x69,
      0x73,
      0x20,
      0x30,
      0x20,
      0x1b,
      0x65, // "Pris 0 €"
    ],
  );
  t.is(arrival.pdu.esm_class, 0);
  t.is(arrival.pdu.registered_delivery, 1);
  // Alphanumeric sender (TON 5, NPI 0); destination international without "+" (TON 1, NPI 1).
  t.like(arrival.pdu, {
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: 'Samverka',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '46701234567',
  });
});

test('a numeric sender is sent as an international number', async (t) => {
  const { smsc, sms } = await setup(t, undefined, { sender: '+46101234567' });
  await sms.send({ to: '+46701234567', text: 'Hej' });
  t.like(present(smsc.arrivals[0], 'the submit_sm').pdu, {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '46101234567',
  });
});

test('a text with a character outside GSM arrives as UCS-2 (data_coding 8)', async (t) => {
  const { smsc, sms } = await setup(t);
  await sms.send({ to: '+46701234567', text: 'Hej 你好 😀' });
  const arrival = present(smsc.arrivals[0], 'the submit_sm');
  t.is(arrival.pdu.data_coding, 8);
  t.deepEqual(arrival.octets, Buffer.from('Hej 你好 😀', 'utf16le').swap16());
  t.is((arrival.pdu.short_message as { message: string }).message, 'Hej 你好 😀');
});

test('a 200-character text arrives as two parts with one reference and a correct UDH', async (t) => {
  const { smsc, sms } = await setup(t);
  const text = `${'Välkommen till ditt digitala vårdmöte. '.repeat(5)}`.slice(0, 200);
  const sent = await sms.send({ to: '+46701234567', text });
  await sms.send({ to: '+46701234567', text: 'x'.repeat(200) });
  t.is(sent.providerIds.length, 2);
  const first = present(smsc.arrivals[0], 'part 1 of the long text');
  const second = present(smsc.arrivals[1], 'part 2 of the long text');
  const other = present(smsc.arrivals[2], 'the next message');
  const reference = udhOf(first)[3];
  t.deepEqual(udhOf(first), [5, 0, 3, reference, 2, 1]);
  t.deepEqual(udhOf(second), [5, 0, 3, reference, 2, 2]);
  t.not(udhOf(other)[3], reference, 'the next message has its own reference');
  for (const part of [first, second]) {
    t.is(part.pdu.data_coding, 0);
    t.is(Number(part.pdu.esm_class) & 0x40, 0x40, 'UDH indicator set');
  }
  t.is(first.octets.length - 6, 153);
  const joined = [first, second].map((a) => (a.pdu.short_message as { message: string }).message).join('');
  t.is(joined, text);
});

test('a long text whose second part the gateway refused for now goes again as that part alone, under the same reference: the phone gets part 1 once', async (t) => {
  const receipts: DeliveryReceipt[] = [];
  const { smsc, sms } = await setup(
    t,
    (_, index) =>
      index === 1
        ? { status: smpp.errors.ESME_RMSGQFUL }
        : { id: String(7000 + index), receipt: { id: String(7000 + index), stat: 'DELIVRD' } },
    { onReceipt: (r) => receipts.push(r) },
  );
  const text = 'Välkommen till ditt digitala vårdmöte. '.repeat(6).slice(0, 200);
  const sent = await sendLikeTheOutbox(sms, { to: '+46701234567', text, key: 'message-1' });
  t.is(smsc.arrivals.length, 3, 'part 1, part 2 refused, part 2 again: part 1 went once');
  const [first, refused, again] = smsc.arrivals.map(udhOf);
  const reference = present(first, 'part 1')[3];
  t.deepEqual(first, [5, 0, 3, reference, 2, 1]);
  t.deepEqual(refused, [5, 0, 3, reference, 2, 2]);
  t.deepEqual(again, [5, 0, 3, reference, 2, 2], 'the same reference, so the phone joins it to part 1');
  t.deepEqual(sent.providerIds, ['7000', '7002']);
  // Part 1's receipt came while the message was not yet sent whole: it is told with the rest.
  await until('both receipts', () => receipts.length === 2);
  t.deepEqual(receipts.map((r) => r.providerId).sort(), ['7000', '7002']);
  const joined = [0, 2].map(
    (i) => (present(smsc.arrivals[i], `arrival ${i}`).pdu.short_message as { message: string }).message,
  );
  t.is(joined.join(''), text);
});

test("a part's receipt that comes while its long text is still being sent is told with the text, and acknowledged only once recorded", async (t) => {
  const told: string[] = [];
  let record: () => void = () => undefined;
  const recorded = new Promise<void>((resolve) => (record = resolve));
  let answerPart2: () => void = () => undefined;
  const part2Answered = new Promise<void>((resolve) => (answerPart2 = resolve));
  const { smsc, sms } = await setup(
    t,
    // Part 2's answer is held until the test lets it go: part 1's receipt arrives meanwhile.
    (_, index) => (index === 0 ? { id: '7100' } : { id: '7101', after: part2Answered }),
    {
      onReceipt: (r) => {
        told.push(r.providerId);
        return recorded;
      },
    },
  );
  const sending = sms.send({ to: '+46701234567', text: 'x'.repeat(200), key: 'message-1' });
  await until('part 2 at the gateway', () => smsc.arrivals.length === 2);
  let acknowledged: number | undefined;
  const answer = smsc.receipt('7100').then((status) => (acknowledged = status));
  // Time for the adapter to tell the receipt too early, if it would: part 2 is still unanswered.
  await delay(100);
  t.deepEqual(told, [], 'not told before the text is sent whole');
  t.is(acknowledged, undefined, 'not acknowledged before it is recorded');
  answerPart2();
  t.deepEqual((await sending).providerIds, ['7100', '7101']);
  await until('part 1 told', () => told.length === 1);
  t.is(acknowledged, undefined);
  record();
  await answer;
  t.is(acknowledged, 0, 'acknowledged once recorded');
});

test('a long text retried with another text or to another number goes whole, under a new reference', async (t) => {
  const { smsc, sms } = await setup(t, (_, index) => (index === 1 ? { status: smpp.errors.ESME_RMSGQFUL } : {}));
  const text = 'x'.repeat(200);
  await t.throwsAsync(sms.send({ to: '+46701234567', text, key: 'message-1' }), { instanceOf: TemporaryFailure });
  await sms.send({ to: '+46701234567', text: 'y'.repeat(200), key: 'message-1' });
  t.is(smsc.arrivals.length, 4);
  const [first, , again1, again2] = smsc.arrivals.map(udhOf);
  t.not(present(again1, 'the new part 1')[3], present(first, 'the first part 1')[3]);
  t.deepEqual(again2, [5, 0, 3, again1![3], 2, 2]);
});

test('after a restart, a long text partly sent goes on from what the outbox kept: the missing part alone under the same reference, and another text whole', async (t) => {
  const smsc = await startSmsc((_, index) =>
    index === 1 ? { status: smpp.errors.ESME_RMSGQFUL } : { id: `p${index}` },
  );
  const options = { url: smsc.url, sender: 'Samverka', throttle: 1000 };
  let sms = new SmsSender(options);
  t.teardown(async () => {
    await sms.close();
    await smsc.close();
  });
  const text = 'Välkommen till ditt digitala vårdmöte. '.repeat(6).slice(0, 200);
  const error = await t.throwsAsync(sms.send({ to: '+46701234567', text, key: 'message-1' }), {
    instanceOf: PartlySent,
  });
  const parts = present(error, 'the partial send').parts;
  t.deepEqual(parts.ids, ['p0', null], 'part 1 taken, part 2 still to go');
  // The appliance restarts: a new adapter, which remembers nothing, is given what the outbox kept.
  await sms.close();
  sms = new SmsSender(options);
  const sent = await sms.send({ to: '+46701234567', text, key: 'message-1', partsTaken: parts });
  t.deepEqual(sent.providerIds, ['p0', 'p2']);
  t.is(smsc.arrivals.length, 3, 'part 1 went once');
  const [first, , again] = smsc.arrivals.map(udhOf);
  const reference = present(first, 'part 1')[3];
  t.deepEqual(again, [5, 0, 3, reference, 2, 2], 'the same reference, so the phone joins it to part 1');
  // Another text (the meeting was moved), or the same to another number, goes whole under a new reference.
  await sms.send({ to: '+46701234567', text: text.replace('digitala', 'nya'), key: 'message-2', partsTaken: parts });
  await sms.send({ to: '+46709876543', text, key: 'message-3', partsTaken: parts });
  t.is(smsc.arrivals.length, 7);
  const [, , , moved1, moved2, other1, other2] = smsc.arrivals.map(udhOf);
  t.deepEqual(moved1?.slice(4), [2, 1]);
  t.deepEqual(moved2?.slice(4), [2, 2]);
  t.deepEqual(other1?.slice(4), [2, 1]);
  t.deepEqual(other2?.slice(4), [2, 2]);
  t.not(moved1?.[3], reference);
});

test('a receipt marks the message delivered, matched to the submit id whatever its radix', async (t) => {
  const receipts: DeliveryReceipt[] = [];
  // 0x3ADE68B1 = 987654321: the gateway answers in hex and receipts in decimal, then the reverse.
  const { sms } = await setup(
    t,
    (_, index) =>
      present(
        [
          { id: '3ADE68B1', receipt: { id: '987654321', stat: 'DELIVRD' } },
          { id: '123456789', receipt: { id: '075bcd15', stat: 'UNDELIV', err: '001' } },
        ][index],
        `an answer for submit_sm number ${index + 1}`,
      ),
    { onReceipt: (r) => receipts.push(r) },
  );
  const delivered = await sms.send({ to: '+46701234567', text: 'Hej' });
  const undelivered = await sms.send({ to: '+46701234568', text: 'Hej' });
  while (receipts.length < 2) await delay(10);
  const [first, second] = [present(receipts[0], 'the first receipt'), present(receipts[1], 'the second receipt')];
  t.is(first.providerId, present(delivered.providerIds[0], 'the id of the first message'));
  t.is(first.status, 'delivered');
  t.is(second.providerId, present(undelivered.providerIds[0], 'the id of the second message'));
  t.is(second.status, 'undeliverable');
  t.is(second.error, 'UNDELIV err:001');
  t.true(sms.state().lastReceiptAt instanceof Date);
});

test('ESME_RTHROTTLED pauses all sending and the message is sent again after the pause', async (t) => {
  const pauseMs = 300;
  const { smsc, sms } = await setup(t, (_, index) => (index === 0 ? { status: smpp.errors.ESME_RTHROTTLED } : {}), {
    window: 1,
    throttledPauseMs: pauseMs,
  });
  const results = await Promise.all(['A', 'B', 'C'].map((text) => sms.send({ to: '+46701234567', text })));
  t.is(results.length, 3);
  const texts = smsc.arrivals.map((a) => (a.pdu.short_message as { message: string }).message);
  t.deepEqual(texts, ['A', 'A', 'B', 'C']);
  // Nothing at all reached the gateway during the pause (1 ms for timer rounding).
  const resent = present(smsc.arrivals[1], 'the throttled message sent again');
  t.true(resent.at - present(smsc.throttledAt[0], 'the throttled response') >= pauseMs - 1);
});

test('the SMSC goes away and comes back: every message is delivered after the rebind', async (t) => {
  let smsc = await startSmsc((_, index) => (index === 9 ? { silent: true } : { delayMs: 10 }));
  const port = smsc.port;
  const sms = new SmsSender({
    url: smsc.url,
    sender: 'Samverka',
    throttle: 1000,
    reconnect: { minMs: 50, maxMs: 200 },
  });
  cleanup(t, sms, () => smsc);
  const texts = Array.from({ length: 40 }, (_, i) => `Meddelande ${i}`);
  const first = smsc;
  const outage = (async () => {
    while (first.arrivals.length < 10) await delay(5);
    await first.close(); // the gateway disappears with messages awaiting a response
    await delay(300);
    smsc = await startSmsc(() => ({ delayMs: 5 }), port);
  })();
  const sent = await Promise.all(texts.map((text) => sendLikeTheOutbox(sms, { to: '+46701234567', text })));
  await outage;
  t.is(sent.length, texts.length);
  const arrived = [...first.arrivals, ...smsc.arrivals].map(
    (a) => (a.pdu.short_message as { message: string }).message,
  );
  for (const text of texts) t.true(arrived.includes(text), `${text} arrived`);
  t.true(arrived.length - texts.length <= 10, 'duplicates stay within the window');
  t.true(smsc.arrivals.length > 0, 'messages went to the SMSC that came back');
  t.true(sms.state().bound);
});

test('a PDU header claiming 2 GB closes the link at once; the adapter binds again and sends on', async (t) => {
  // Keep-alive far off: only closing at once can bring the rebind this test waits for.
  const { smsc, sms } = await setup(t, undefined, { enquireLinkMs: 3_600_000, reconnect: { minMs: 20, maxMs: 50 } });
  await sms.send({ to: '+46701234567', text: 'Före' });
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x80000000, 0); // command_length: 2 GB
  header.writeUInt32BE(0x00000005, 4); // deliver_sm
  smsc.writeRaw(header);
  while (!sms.state().lastOutage) await delay(10);
  t.is(smsc.binds, 2);
  t.is(smsc.closedLinks, 1);
  t.regex(sms.state().lastOutage?.reason ?? '', /PDU length was too large \(2147483648/);
  await sms.send({ to: '+46701234567', text: 'Efter' });
  t.is(smsc.arrivals.length, 2);
});

for (const length of [0, 4]) {
  test(`a PDU whose command_length is ${length} (shorter than its own header) drops the link at once; the adapter binds again and sends on`, async (t) => {
    // Keep-alive far off: only dropping the link at once can bring the rebind this test waits for.
    const { smsc, sms } = await setup(t, undefined, { enquireLinkMs: 3_600_000, reconnect: { minMs: 20, maxMs: 50 } });
    await sms.send({ to: '+46701234567', text: 'Före' });
    const header = Buffer.alloc(16);
    header.writeUInt32BE(length, 0);
    header.writeUInt32BE(0x00000005, 4); // deliver_sm
    smsc.writeRaw(header);
    await until('the link dropped and bound again', () => sms.state().lastOutage, 5_000);
    t.is(smsc.binds, 2);
    t.regex(
      sms.state().lastOutage?.reason ?? '',
      new RegExp(`PDU length ${length} is shorter than the 16-octet header`),
    );
    await sms.send({ to: '+46701234567', text: 'Efter' });
    t.is(smsc.arrivals.length, 2);
  });
}

test('a permanent error status gives PermanentFailure naming the status; a full queue is temporary', async (t) => {
  const { sms } = await setup(t, (_, index) => ({
    status: [smpp.errors.ESME_RINVDSTADR, smpp.errors.ESME_RMSGQFUL, 0x0400][index],
  }));
  const invalid = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: PermanentFailure });
  t.is(invalid?.message, 'ESME_RINVDSTADR (invalid destination address)');
  const full = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: TemporaryFailure });
  t.regex(full?.message ?? '', /ESME_RMSGQFUL/);
  const vendor = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: PermanentFailure });
  t.is(vendor?.message, 'command status 0x00000400');
});

test('a gateway that no longer counts the link as bound (ESME_RINVBNDSTS, after its failover) fails the message temporarily, and the adapter binds again and sends on', async (t) => {
  const { smsc, sms } = await setup(t, (_, index) => (index === 0 ? { status: smpp.errors.ESME_RINVBNDSTS } : {}));
  const unbound = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: TemporaryFailure });
  t.regex(unbound?.message ?? '', /ESME_RINVBNDSTS/);
  while (smsc.binds < 2) await delay(10);
  await sms.send({ to: '+46701234567', text: 'Igen' });
  t.is(smsc.arrivals.length, 2);
});

test('a number that is not E.164 fails permanently without reaching the gateway', async (t) => {
  const { smsc, sms } = await setup(t);
  await t.throwsAsync(sms.send({ to: '070-123 45 67', text: 'Hej' }), { instanceOf: PermanentFailure });
  t.is(smsc.arrivals.length, 0);
});

test('the throttle never lets more parts than SMPP_THROTTLE reach the SMSC in any one second', async (t) => {
  const throttle = 10;
  const { smsc, sms } = await setup(t, undefined, { throttle });
  // 8 two-part messages and 6 single ones: 22 parts; the limit counts parts, not messages.
  const messages = [
    ...Array.from({ length: 8 }, (_, i) => ({ to: '+46701234567', text: `${i} ${'lång text '.repeat(20)}` })),
    ...Array.from({ length: 6 }, (_, i) => ({ to: '+46701234567', text: `kort ${i}` })),
  ];
  await Promise.all(messages.map((m) => sms.send(m)));
  const times = smsc.arrivals.map((a) => a.at).sort((a, b) => a - b);
  t.is(times.length, 22);
  const mostInOneSecond = Math.max(
    ...times.map((start) => times.filter((at) => at >= start && at < start + 1000).length),
  );
  t.true(mostInOneSecond <= throttle, `${mostInOneSecond} parts in one second`);
});

test('the window never holds more than 10 submit_sm without a response', async (t) => {
  const { smsc, sms } = await setup(t, () => ({ delayMs: 30 }));
  await Promise.all(Array.from({ length: 40 }, (_, i) => sms.send({ to: '+46701234567', text: `Hej ${i}` })));
  t.is(smsc.arrivals.length, 40);
  t.is(smsc.maxOutstanding, 10);
  t.deepEqual(sms.state().window, { inUse: 0, size: 10 });
});

// Serial: ava runs it before the file's concurrent tests, whose timers the driven clock would hold.
test.serial('a submit_sm without a response fails temporarily after the response timeout', async (t) => {
  // The adapter's own 10 s timeout, on a clock the test drives: it runs out when the test moves the
  // clock past it, never because a busy machine was slow to bind or to answer the next message.
  const responseTimeoutMs = 10_000;
  const { smsc, sms } = await setup(t, (_, index) => (index === 0 ? { silent: true } : {}), { responseTimeoutMs });
  await until('the link bound', () => sms.state().bound);
  mock.timers.enable({ apis: ['setTimeout'] });
  t.teardown(() => mock.timers.reset());
  let settled = false;
  const silent = sms.send({ to: '+46701234567', text: 'Hej' });
  silent.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Waits for the arrival by turns of the event loop (the test's clock stands still meanwhile).
  const deadline = Date.now() + 15_000;
  while (smsc.arrivals.length < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  t.is(smsc.arrivals.length, 1, 'the gateway has it, and does not answer');
  mock.timers.tick(responseTimeoutMs - 1);
  for (let turn = 0; turn < 10; turn += 1) await new Promise((r) => setImmediate(r));
  t.false(settled, 'still waiting for the response until the timeout has run out');
  mock.timers.tick(1);
  const error = await t.throwsAsync(silent, { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /no submit_sm_resp within 10000 ms/);
  mock.timers.reset();
  // The link is still good: the next message goes, and is answered.
  t.deepEqual(await sms.send({ to: '+46701234567', text: 'Hej igen' }), { providerIds: ['5000'] });
  t.is(smsc.arrivals.length, 2);
});

test('the link is kept alive with enquire_link', async (t) => {
  const { smsc, sms } = await setup(t, undefined, { enquireLinkMs: 50 });
  await sms.send({ to: '+46701234567', text: 'Hej' });
  while (smsc.enquireLinks < 2) await delay(20);
  t.true(sms.state().bound);
});

test('a wrong password is not bound, and messages fail temporarily with the reason', async (t) => {
  const smsc = await startSmsc();
  const sms = new SmsSender({
    url: smsc.url.replace('hemligt', 'fel'),
    sender: 'Samverka',
    throttle: 10,
    queueTimeoutMs: 300,
    reconnect: { minMs: 50, maxMs: 100 },
  });
  cleanup(t, sms, () => smsc);
  // The first refusal is in before the message is queued: on a busy machine the 300 ms queue
  // timeout could otherwise run out before the gateway's answer, and the reason not be known yet.
  while (!sms.state().lastError) await delay(10);
  const error = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /bind refused: ESME_RBINDFAIL/);
  t.false(sms.state().bound);
});

test('message ids in hex and in decimal normalise to one form', (t) => {
  t.is(normaliseMessageId('3ADE68B1'), normaliseMessageId('987654321'));
  t.is(normaliseMessageId('0000987654321'), '987654321');
  // Digits-only hex ids cannot be told from decimal ones: the gateway's convention is configured.
  t.is(normaliseMessageId('12345678', 'hex'), normaliseMessageId('305419896', 'decimal'));
  t.is(normaliseMessageId('550E8400-E29B-41D4'), '550e8400-e29b-41d4');
});

test('receipts are read from the text, or from the TLVs when the gateway sends them', (t) => {
  t.like(
    parseReceipt('id:123 sub:001 dlvrd:000 submit date:2611251200 done date:2611260000 stat:EXPIRED err:000 text:Hej'),
    { id: '123', status: 'expired', error: 'EXPIRED err:000' },
  );
  t.like(parseReceipt('id:9 stat:REJECTD err:0b'), { status: 'rejected' });
  t.like(parseReceipt('id:9 stat:DELETED err:000'), { status: 'deleted' });
  // On its way, not how it ended: ENROUTE and ACCEPTD, in the text or as message_state 1 and 6.
  t.like(parseReceipt('id:9 stat:ENROUTE err:000'), { status: 'pending' });
  t.like(parseReceipt('id:9 stat:ACCEPTD err:000'), { status: 'pending' });
  t.like(parseReceipt('', { receiptedMessageId: 'abc', messageState: 1 }), { status: 'pending' });
  t.like(parseReceipt('', { receiptedMessageId: 'abc', messageState: 6 }), { status: 'pending' });
  t.like(parseReceipt('id:9 stat:UNKNOWN err:000'), { status: 'unknown' });
  t.like(parseReceipt('', { receiptedMessageId: 'abc', messageState: 5 }), { id: 'abc', status: 'undeliverable' });
  t.is(parseReceipt('no id here'), undefined);
});

test('status names say what went wrong', (t) => {
  t.is(describeStatus(0x0b), 'ESME_RINVDSTADR (invalid destination address)');
  t.is(describeStatus(0x58), 'ESME_RTHROTTLED (throttled: sending too fast)');
  t.is(describeStatus(0x0400), 'command status 0x00000400');
});

test('closing the adapter fails the messages still queued temporarily, so the outbox keeps them', async (t) => {
  const smsc = await startSmsc();
  await smsc.close(); // nothing listens: the messages wait in the queue
  const sms = new SmsSender({ url: smsc.url, sender: 'Samverka', throttle: 10, reconnect: { minMs: 50, maxMs: 100 } });
  const pending = sms.send({ to: '+46701234567', text: 'Hej' });
  await delay(20);
  t.is(sms.state().queued, 1);
  await sms.close();
  const error = await t.throwsAsync(pending, { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /closed before the message was sent/);
  await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: TemporaryFailure });
});

test('when the appliance stops with the gateway refusing binds, a message waiting for the link fails at once and new ones are refused', async (t) => {
  const { smsc, sms } = await setup(t, undefined, { reconnect: { minMs: 50, maxMs: 100 } });
  smsc.refuseBinds = true;
  while (!/bind refused/.test(sms.state().lastError ?? '')) await delay(10);
  const pending = sms.send({ to: '+46701234567', text: 'Din kod är 123456.' });
  await delay(20);
  t.is(sms.state().queued, 1);
  sms.beginClose();
  const error = await t.throwsAsync(pending, { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /the appliance stopped while the SMPP link was down \(bind refused: ESME_RBINDFAIL/);
  t.is(sms.state().queued, 0);
  await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: TemporaryFailure });
  t.is(smsc.arrivals.length, 0);
});

test('when the appliance stops with the link bound, what waits for the window still goes and what the gateway has gets its answer: no part twice', async (t) => {
  const { smsc, sms } = await setup(t, () => ({ delayMs: 100 }), { window: 1 });
  const long = sms.send({ to: '+46701234567', text: 'x'.repeat(200) }); // two parts, one window
  const short = sms.send({ to: '+46701234568', text: 'Hej' });
  while (smsc.arrivals.length < 1) await delay(5);
  sms.beginClose();
  t.is((await long).providerIds.length, 2);
  t.is((await short).providerIds.length, 1);
  t.is(smsc.arrivals.length, 3, 'each part once');
});

test('when the link is lost while the appliance stops, what still waits for it fails at once instead of waiting for a rebind', async (t) => {
  const { smsc, sms } = await setup(t, () => ({ silent: true }), { window: 1, reconnect: { minMs: 50, maxMs: 100 } });
  const sent = sms.send({ to: '+46701234567', text: 'Hej' });
  const waiting = sms.send({ to: '+46701234568', text: 'Hej igen' });
  while (smsc.arrivals.length < 1) await delay(5);
  sms.beginClose();
  t.is(sms.state().queued, 1, 'bound: the second waits for the window');
  await smsc.close();
  const lost = await t.throwsAsync(sent, { instanceOf: TemporaryFailure });
  t.regex(lost?.message ?? '', /the SMPP link was lost before the gateway answered/);
  const stopped = await t.throwsAsync(waiting, { instanceOf: TemporaryFailure });
  t.regex(stopped?.message ?? '', /the appliance stopped while the SMPP link was down/);
});

// SMPP over TLS (ssmpp://): the smpp package's SecureServer with a certificate from a hospital CA
// made here; the adapter verifies it against the system's CAs and TLS_CA_FILE's.
const certificates = makeCertificates();
test.after.always(() => certificates.remove());

test('over TLS (ssmpp://) a gateway whose certificate the hospital CA signed binds, and a message and its receipt pass', async (t) => {
  const smsc = await startSmsc(() => ({ receipt: { id: '5000', stat: 'DELIVRD' } }), 0, { tls: certificates });
  t.regex(smsc.url, /^ssmpp:/);
  const receipts: DeliveryReceipt[] = [];
  const sms = new SmsSender({
    url: smsc.url,
    sender: 'Samverka',
    throttle: 100,
    ca: certificates.ca,
    onReceipt: (r) => receipts.push(r),
  });
  cleanup(t, sms, () => smsc);
  const sent = await sms.send({ to: '+46701234567', text: 'Hej över TLS' });
  t.deepEqual(sent.providerIds, ['5000']);
  while (receipts.length < 1) await delay(10);
  t.is(present(receipts[0], 'the receipt').status, 'delivered');
  t.is(smsc.binds, 1);
});

test('over TLS a certificate from a CA the appliance does not trust is refused: never bound, the reason names the fix', async (t) => {
  const smsc = await startSmsc(undefined, 0, { tls: certificates });
  const sms = new SmsSender({
    url: smsc.url,
    sender: 'Samverka',
    throttle: 100,
    queueTimeoutMs: 300,
    reconnect: { minMs: 50, maxMs: 100 },
  });
  cleanup(t, sms, () => smsc);
  while (!sms.state().lastError) await delay(10); // the first refused handshake, before the 300 ms queue wait
  const error = await t.throwsAsync(sms.send({ to: '+46701234567', text: 'Hej' }), { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /certificate.*TLS_CA_FILE/);
  t.false(sms.state().bound);
  t.is(smsc.binds, 0, 'the password was never sent');
});
