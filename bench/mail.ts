// Mail throughput beside raw nodemailer pooled sending, to the same local smtp-server in the same
// run, each message with an .ics invitation: the adapter alone, and the whole outbox (rows in
// SQLite with synchronous=FULL, claimed, rendered from the templates, sent, recorded).
//   npx tsx bench/mail.ts
// The server drains and discards each message, so the figures are about the sending side.
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '../appliance/src/db/knex.ts';
import { meetingCalendar } from '../appliance/src/invites/calendar.ts';
import { Dispatcher } from '../appliance/src/invites/dispatcher.ts';
import { MailSender } from '../appliance/src/invites/mail.ts';
import { enqueue } from '../appliance/src/invites/outbox.ts';
import { Templates } from '../appliance/src/invites/templates.ts';

async function startServer(): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => callback());
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function message(i: number) {
  const calendar = meetingCalendar({
    uid: `meeting-${i}@samverka.bench`, sequence: 0, start: new Date('2026-12-01T09:00:00Z'), end: new Date('2026-12-01T09:45:00Z'),
    summary: 'Digitalt vårdmöte', joinUrl: `https://samverka.bench/j/${i}`, organizer: { name: 'Barnkliniken', email: 'bk@samverka.bench' },
    attendee: { email: `guest${i}@example.se` },
  });
  return {
    to: `guest${i}@example.se`,
    subject: 'Inbjudan till digitalt vårdmöte',
    html: `<p>Välkommen! <a href="https://samverka.bench/j/${i}">Anslut</a></p>`,
    text: `Välkommen! Anslut: https://samverka.bench/j/${i}`,
    calendar,
  };
}

async function timed(count: number, send: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  return count / ((performance.now() - started) / 1000);
}

export async function run(count = 1000): Promise<void> {
  const server = await startServer();
  const adapter = new MailSender({ url: server.url, from: 'Samverka <noreply@samverka.bench>' });
  const raw = nodemailer.createTransport({ pool: true, maxConnections: 5, host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true });
  const viaRaw = (i: number) => {
    const m = message(i);
    return raw.sendMail({
      from: 'Samverka <noreply@samverka.bench>', to: m.to, subject: m.subject, html: m.html, text: m.text,
      icalEvent: { method: m.calendar.method, filename: 'invite.ics', content: m.calendar.content },
    });
  };
  const viaAdapter = (i: number) => adapter.send(message(i));
  try {
    // Warm both pools up, then alternate so neither always runs on a colder process.
    await timed(100, viaRaw);
    await timed(100, viaAdapter);
    const rawRates: number[] = [];
    const adapterRates: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      rawRates.push(await timed(count, viaRaw));
      adapterRates.push(await timed(count, viaAdapter));
    }
    const outboxRate = await throughOutbox(server.url, count);
    const best = (rates: number[]) => Math.max(...rates);
    console.log('Mail (SMTP), 5 pooled connections, an .ics in every message');
    console.table([
      { case: 'raw nodemailer pool', messages: count, 'msg/s (best of 3)': Math.round(best(rawRates)), ratio: '1.00' },
      { case: 'mail adapter', messages: count, 'msg/s (best of 3)': Math.round(best(adapterRates)), ratio: (best(adapterRates) / best(rawRates)).toFixed(2) },
      { case: 'through the outbox (SQLite, FULL; one run)', messages: count, 'msg/s (best of 3)': Math.round(outboxRate), ratio: (outboxRate / best(rawRates)).toFixed(2) },
    ]);
  } finally {
    adapter.close();
    raw.close();
    await server.close();
  }
}

/** Enqueued invitations, dispatched to the relay until every row is recorded as sent. */
async function throughOutbox(url: string, count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-bench-mail-'));
  const db = createDb(`sqlite:${join(dir, 'bench.db')}`);
  const dataKey = randomBytes(32);
  const mail = new MailSender({ url, from: 'Samverka <noreply@samverka.bench>' });
  try {
    await db.migrate.latest();
    const data = { name: 'Eva Ek', date: 'tisdag 1 december 2026', time: '10:00', endTime: '10:45', unitName: 'Barnkliniken', unitPhone: '010-123 45 67', startsAt: '2026-12-01T09:00:00.000Z', endsAt: '2026-12-01T09:45:00.000Z', calendarSequence: 0 };
    await db.transaction(async (trx) => {
      for (let i = 0; i < count; i++) {
        await enqueue(trx, dataKey, { channel: 'email', kind: 'invitation', recipient: `guest${i}@example.se`, language: 'sv', meetingId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, data, secret: randomBytes(18).toString('base64url') });
      }
    });
    const dispatcher = new Dispatcher({
      db, dataKey, publicUrl: new URL('https://samverka.bench'), mailFrom: 'Samverka <noreply@samverka.bench>',
      templates: new Templates(null, () => {}), mail,
      // Only e-mail is queued here: an SMS would be a mistake in the benchmark itself.
      sms: { send: () => Promise.reject(new Error('no SMS in the mail benchmark')) },
    });
    const started = performance.now();
    dispatcher.start();
    for (;;) {
      const [{ n }] = await db('outbox_messages').where({ status: 'sent' }).count({ n: '*' });
      if (Number(n) >= count) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const rate = count / ((performance.now() - started) / 1000);
    await dispatcher.stop();
    return rate;
  } finally {
    mail.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
