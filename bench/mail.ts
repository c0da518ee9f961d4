// Mail adapter throughput beside raw nodemailer pooled sending, to the same local smtp-server in
// the same run, each message with an .ics invitation.
//   npx tsx bench/mail.ts
// The server drains and discards each message, so the figures are about the sending side.
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { meetingCalendar } from '../appliance/src/invites/calendar.ts';
import { MailSender } from '../appliance/src/invites/mail.ts';

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
    const best = (rates: number[]) => Math.max(...rates);
    console.log('Mail (SMTP) adapter, 5 pooled connections, an .ics in every message');
    console.table([
      { case: 'raw nodemailer pool', messages: count, 'msg/s (best of 3)': Math.round(best(rawRates)), ratio: '1.00' },
      { case: 'mail adapter', messages: count, 'msg/s (best of 3)': Math.round(best(adapterRates)), ratio: (best(adapterRates) / best(rawRates)).toFixed(2) },
    ]);
  } finally {
    adapter.close();
    raw.close();
    await server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
