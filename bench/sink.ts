// A receiving end in a process of its own, forked by the harness (startSink): `smsc` is the
// development SMSC answering every submit_sm after the given delay, with delivery receipts;
// `smtp` an SMTP server that drains and discards, or with `links` keeps the guest link of each
// mail (read with mailparser, here rather than in the measuring process) by its recipient. It tells
// the parent its URL, then answers "arrivals" (epoch ms of each message since the last read or
// reset), "reset", "links" ([recipient, /j/… path] pairs, all so far) and, from the SMSC, "parts"
// (the messages read since the last reset and the submit_sm they came in: a long text is several).
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { startEmbeddedSmsc } from '../appliance/src/invites/embedded.ts';

const [kind, delay, keep] = process.argv.slice(2);
let arrivals: number[] = [];
const links: [string, string][] = [];
let close: () => Promise<void>;

if (kind === 'smsc') {
  const smsc = await startEmbeddedSmsc({ responseDelayMs: Number(delay), capacity: 100_000 });
  let seen = 0;
  let counted = { messages: 0, parts: 0 };
  // The SMSC keeps what it received with its time: the arrivals are read from there.
  const read = () => {
    const fresh = smsc.messages().slice(seen);
    seen += fresh.length;
    counted.messages += fresh.length;
    for (const m of fresh) counted.parts += m.messageIds.length;
    return fresh.map((m) => m.receivedAt.getTime());
  };
  process.on('message', (what: string) => {
    if (what === 'reset') {
      read();
      counted = { messages: 0, parts: 0 };
    }
    process.send!(what === 'arrivals' ? read() : what === 'parts' ? counted : null);
  });
  close = () => smsc.close();
  process.send!(smsc.url);
} else {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      if (keep === 'links') {
        simpleParser(stream)
          .then((mail) => {
            arrivals.push(Date.now());
            const to = mail.to && 'text' in mail.to ? mail.to.text : '';
            const path = /http:\/\/[^/]+(\/j\/[\w-]+)/.exec(mail.text ?? '')?.[1];
            if (path) links.push([to, path]);
            callback();
          })
          .catch((error: Error) => callback(error));
        return;
      }
      stream.on('end', () => {
        arrivals.push(Date.now());
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  process.on('message', (what: string) => {
    const reply = what === 'arrivals' ? arrivals : what === 'links' ? links : null;
    if (what === 'arrivals' || what === 'reset') arrivals = [];
    process.send!(reply);
  });
  process.send!(`smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`);
}

process.once('SIGTERM', () => void close().then(() => process.exit(0)));
