// A participant as a Jitsi client behaves in the MUC, for tests: joins with a nickname, a `<nick>`
// display name and the `<identity>` that Jitsi's Prosody (mod_presence_identity) puts in presence
// from the JWT. Registered users (stable JIDs) when a user is given, anonymous guests otherwise.
import { client, xml, type Client, type XmlElement } from '@xmpp/client';
import { guardAgainstLateData } from '../../appliance/src/rooms/xmpp.ts';
import type { Prosody } from './prosody.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

export function hasStatus(presence: XmlElement, code: string): boolean {
  return Boolean(
    presence
      .getChild('x', NS_MUC_USER)
      ?.getChildren('status')
      .some((s) => s.attrs.code === code),
  );
}

export interface MucClient {
  xmpp: Client;
  jid: string;
  /** Every presence the participant received, newest last. */
  presences: XmlElement[];
  join(
    room: string,
    nick: string,
    extra?: { password?: string; identity?: Record<string, string>; displayName?: string },
  ): Promise<XmlElement>;
  /** Leaves the room (an unavailable presence), without waiting for the room's answer. */
  leave(room: string, nick: string): Promise<void>;
  presence(filter: (p: XmlElement) => boolean, timeoutMs?: number): Promise<XmlElement>;
  disco(room: string): Promise<XmlElement>;
  stop(): Promise<void>;
}

export async function mucClient(prosody: Prosody, user?: string): Promise<MucClient> {
  const password = 'participant-password';
  if (user) await prosody.register(user, prosody.domain, password);
  const xmpp = guardAgainstLateData(
    client({
      service: prosody.service,
      domain: user ? prosody.domain : prosody.guestDomain,
      username: user,
      password: user ? password : undefined,
      credentials: user ? (authenticate) => authenticate({ username: user, password }, 'PLAIN') : undefined,
    }),
  );
  xmpp.on('error', () => {});
  xmpp.reconnect.delay = 100;
  const presences: XmlElement[] = [];
  const waiters = new Set<(p: XmlElement) => void>();
  xmpp.on('stanza', (stanza: XmlElement) => {
    if (!stanza.is('presence')) return;
    presences.push(stanza);
    for (const waiter of waiters) waiter(stanza);
  });
  await xmpp.start();
  const presence = (filter: (p: XmlElement) => boolean, timeoutMs = 5_000) =>
    new Promise<XmlElement>((resolve, reject) => {
      const seen = presences.find(filter);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no such presence within ${timeoutMs} ms; got ${presences.map(String).join('\n')}`));
      }, timeoutMs);
      const waiter = (p: XmlElement) => {
        if (!filter(p)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(p);
      };
      waiters.add(waiter);
    });
  return {
    xmpp,
    get jid() {
      return xmpp.jid!.toString();
    },
    presences,
    presence,
    async join(room, nick, extra = {}) {
      const to = `${room}@${prosody.mucDomain}/${nick}`;
      const sentAt = presences.length;
      await xmpp.send(
        xml(
          'presence',
          { to },
          xml('x', { xmlns: NS_MUC }, extra.password ? xml('password', {}, extra.password) : null),
          extra.displayName ? xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, extra.displayName) : null,
          extra.identity
            ? xml('identity', {}, xml('user', {}, ...Object.entries(extra.identity).map(([k, v]) => xml(k, {}, v))))
            : null,
        ),
      );
      // The join ends with our own presence (status 110) or an error.
      return presence(
        (p) =>
          presences.indexOf(p) >= sentAt && p.attrs.from === to && (p.attrs.type === 'error' || hasStatus(p, '110')),
      );
    },
    async leave(room, nick) {
      await xmpp.send(xml('presence', { to: `${room}@${prosody.mucDomain}/${nick}`, type: 'unavailable' }));
    },
    async disco(room) {
      return xmpp.iqCaller.request(
        xml('iq', { type: 'get', to: `${room}@${prosody.mucDomain}` }, xml('query', { xmlns: NS_DISCO_INFO })),
      );
    },
    async stop() {
      xmpp.reconnect.stop();
      await xmpp.stop().catch(() => {});
    },
  };
}
