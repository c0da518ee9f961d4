// The e-mail benchmark's baseline (bench/messages.ts) in a fresh process of its own, as the appliance
// is measured: raw pooled nodemailer (5 connections, as the adapter) sending `count` invitations
// (the appliance's own text and HTML, an .ics made the same way) to the SMTP server at `url`, then
// exiting. The rate is read where the messages arrive, as the appliance's is.
import nodemailer from 'nodemailer';
import { meetingCalendar } from '../appliance/src/invites/calendar.ts';
import { Templates } from '../appliance/src/invites/templates.ts';

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
// The invitation the appliance sends a guest, rendered once from its own template (rendering is
// the appliance's work, not nodemailer's); each message then differs only in its link and address,
// so that both sides hand nodemailer the same bytes to encode.
const link = 'https://samverka.bench/j/LINK';
const invitation = new Templates(null, () => {}).email('sv', 'invitation', {
  name: 'Gäst 0-1',
  unitName: 'Barnkliniken',
  unitPhone: '010-123 45 67',
  date: 'tisdag 1 december 2026',
  time: '10:00',
  endTime: '10:45',
  colleague: false,
  hasMobile: false,
  link,
});
const message = (i: number) => {
  const ownLink = `https://samverka.bench/j/${String(i).padStart(24, '0')}`;
  const calendar = meetingCalendar({
    uid: `meeting-${i}@samverka.bench`,
    sequence: 0,
    start: new Date('2026-12-01T09:00:00Z'),
    end: new Date('2026-12-01T09:45:00Z'),
    summary: 'Digitalt möte med Barnkliniken',
    joinUrl: ownLink,
    organizer: { name: 'Barnkliniken', email: 'bk@samverka.bench' },
    attendee: { name: 'Gäst 0-1', email: `guest${i}@example.se` },
  });
  return {
    from: 'Samverka <noreply@samverka.bench>',
    to: `guest${i}@example.se`,
    subject: invitation.subject,
    html: invitation.html.replaceAll(link, ownLink),
    text: invitation.text.replaceAll(link, ownLink),
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
