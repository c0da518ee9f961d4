// The e-mail benchmark's baseline (bench/messages.ts) in a fresh process of its own, as the appliance
// is measured: raw pooled nodemailer (5 connections, as the adapter) sending `count` invitation-shaped
// messages (HTML, text, .ics) to the SMTP server at `url`, then exiting. The rate is read where the
// messages arrive, as the appliance's is.
import nodemailer from 'nodemailer';
import { meetingCalendar } from '../appliance/src/invites/calendar.ts';

const [url, count] = process.argv.slice(2);
const { hostname, port } = new URL(String(url));
const transport = nodemailer.createTransport({
  pool: true,
  maxConnections: 5,
  host: hostname,
  port: Number(port),
  secure: false,
  ignoreTLS: true,
});
const message = (i: number) => {
  const calendar = meetingCalendar({
    uid: `meeting-${i}@samverka.bench`,
    sequence: 0,
    start: new Date('2026-12-01T09:00:00Z'),
    end: new Date('2026-12-01T09:45:00Z'),
    summary: 'Digitalt vårdmöte',
    joinUrl: `https://samverka.bench/j/${i}`,
    organizer: { name: 'Barnkliniken', email: 'bk@samverka.bench' },
    attendee: { email: `guest${i}@example.se` },
  });
  return {
    from: 'Samverka <noreply@samverka.bench>',
    to: `guest${i}@example.se`,
    subject: 'Inbjudan till digitalt vårdmöte',
    html: `<p>Välkommen! <a href="https://samverka.bench/j/${i}">Anslut</a></p>`,
    text: `Välkommen! Anslut: https://samverka.bench/j/${i}`,
    icalEvent: { method: calendar.method, filename: 'invite.ics', content: calendar.content },
  };
};
// Each message is made as it is handed over, 20 at a time (the outbox's window): made all up front,
// their cost would fall before the first arrival, outside the rate measured at the server.
const window = 20;
let next = 0;
try {
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < Number(count)) await transport.sendMail(message(next++));
    }),
  );
} finally {
  transport.close();
}
