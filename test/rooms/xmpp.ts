import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { xml, type XmlElement } from '@xmpp/client';
import {
  RoomControl,
  RoomControlError,
  whyLeft,
  type Occupant,
  type RoomControlEvents,
} from '../../appliance/src/rooms/xmpp.ts';
import { startProsody, type Prosody, type ProsodyOptions } from '../helpers/prosody.ts';
import { hasStatus, mucClient, type MucClient } from '../helpers/muc-client.ts';
import { present } from '../helpers/present.ts';

/** Rooms public and persistent unless configured otherwise, so that the appliance's configuration shows. */
const openDefaults: ProsodyOptions = {
  mucOptions: '    muc_room_default_public = true\n    muc_room_default_persistent = true',
};

const run = promisify(execFile);
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

interface Setup {
  prosody: Prosody;
  rooms: RoomControl;
}

/** Each test gets its own Prosody (it starts in ~0.1 s) and the adapter connected as the hidden-domain controller. */
async function setup(t: ExecutionContext, options: ProsodyOptions = {}): Promise<Setup> {
  const prosody = await startProsody(options);
  const rooms = new RoomControl({ ...prosody.xmppConfig(), reconnect: { initialMs: 50, maxMs: 400 } });
  rooms.on('problem', () => {});
  t.teardown(async () => {
    await rooms.close();
    await prosody.stop();
  });
  await rooms.start();
  return { prosody, rooms };
}

/** The next event of that name (matching the filter) the adapter emits. */
function next<K extends keyof RoomControlEvents>(
  rooms: RoomControl,
  name: K,
  filter: (...args: RoomControlEvents[K]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<RoomControlEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      rooms.off(name, listener as never);
      reject(new Error(`no ${String(name)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: RoomControlEvents[K]) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      rooms.off(name, listener as never);
      resolve(args[0]);
    };
    rooms.on(name, listener as never);
  });
}

type Participant = MucClient;

/** A Jitsi-like client (test/helpers/muc-client.ts), stopped when the test ends. */
async function participant(t: ExecutionContext, prosody: Prosody, user?: string): Promise<Participant> {
  const p = await mucClient(prosody, user);
  t.teardown(() => p.stop());
  return p;
}

/** Joins and waits until the adapter has reported the occupant too (the two presences race). */
async function joinSeen(
  rooms: RoomControl,
  who: Participant,
  room: string,
  nick: string,
  extra?: Parameters<Participant['join']>[2],
): Promise<XmlElement> {
  const seen = next(rooms, 'occupantJoined', (o) => o.room === room && o.nick === nick);
  const self = await who.join(room, nick, extra);
  await seen;
  return self;
}

function features(info: XmlElement): string[] {
  return info
    .getChild('query', NS_DISCO_INFO)!
    .getChildren('feature')
    .map((f) => f.attrs.var!);
}

function errorCondition(stanza: XmlElement): string | undefined {
  return stanza.getChild('error')?.getChildElements()[0]?.name;
}

test('the appliance creates a meeting room that is hidden, temporary, members-only and password-protected', async (t) => {
  const { prosody, rooms } = await setup(t, openDefaults);
  const configured = await rooms.createRoom('moterum1', { password: 'hemligt', membersOnly: true });
  t.deepEqual(configured, { created: true, membersOnly: true, passwordProtected: true });

  const anna = await participant(t, prosody);
  const info = features(await anna.disco('moterum1'));
  for (const feature of ['muc_membersonly', 'muc_hidden', 'muc_passwordprotected', 'muc_temporary'])
    t.true(info.includes(feature), feature);
  t.false(info.includes('muc_public'));
  t.false(info.includes('muc_persistent'));

  t.is(
    errorCondition(await anna.join('moterum1', 'Anna', { password: 'hemligt' })),
    'registration-required',
    'not a member yet',
  );
  await rooms.grant('moterum1', anna.jid, 'member');
  t.is(errorCondition(await anna.join('moterum1', 'Anna', { password: 'fel' })), 'not-authorized', 'wrong password');
  t.true(hasStatus(await anna.join('moterum1', 'Anna', { password: 'hemligt' }), '110'));
  t.deepEqual(rooms.state(), {
    connected: true,
    secure: false,
    status: 'online',
    roomsOpen: 1,
    roomsControlled: 1,
    reconnects: 0,
  });
});

test('a room that already exists is taken over and configured rather than created', async (t) => {
  const { prosody, rooms } = await setup(t, openDefaults);
  // A Jitsi client that arrives first creates the room and unlocks it as an instant room.
  const early = await participant(t, prosody);
  t.true(hasStatus(await early.join('tidigt', 'Tidig'), '201'));
  await early.xmpp.iqCaller.request(
    xml(
      'iq',
      { type: 'set', to: `tidigt@${prosody.mucDomain}` },
      xml(
        'query',
        { xmlns: 'http://jabber.org/protocol/muc#owner' },
        xml('x', { xmlns: 'jabber:x:data', type: 'submit' }),
      ),
    ),
  );
  t.true(features(await early.disco('tidigt')).includes('muc_public'));

  const configured = await rooms.createRoom('tidigt', {});
  t.deepEqual(configured, { created: false, membersOnly: false, passwordProtected: false });
  const info = features(await early.disco('tidigt'));
  t.true(info.includes('muc_hidden'));
  t.true(info.includes('muc_unsecured'));
  t.false(info.includes('muc_public'));
  t.deepEqual(
    rooms.occupants('tidigt').map((o) => o.nick),
    ['Tidig'],
  );
});

test('asking for the same room twice at once joins and configures it once', async (t) => {
  const { prosody, rooms } = await setup(t, openDefaults);
  const [first, second] = await Promise.all([
    rooms.createRoom('dubbel', { membersOnly: true }),
    rooms.createRoom('dubbel', { membersOnly: true }),
  ]);
  t.true(first.created);
  t.true(second.created);
  t.is((await rooms.createRoom('dubbel', { membersOnly: true })).created, false);
  const anna = await participant(t, prosody);
  const info = await anna.disco('dubbel');
  const occupants = info
    .getChild('query', NS_DISCO_INFO)!
    .getChild('x', 'jabber:x:data')!
    .getChildren('field')
    .find((f) => f.attrs.var === 'muc#roominfo_occupants');
  t.is(occupants?.getChildText('value'), '1');
  t.true(features(info).includes('muc_membersonly'));
  t.is(rooms.state().roomsOpen, 1);
});

test('participants who join are reported with nickname, JID, display name and the identity from their token', async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum2');
  const anna = await participant(t, prosody);
  const bertil = await participant(t, prosody);

  const annaJoined = next(rooms, 'occupantJoined', (o) => o.nick === 'anna-1');
  await anna.join('moterum2', 'anna-1', {
    identity: { id: 'participant-17', name: 'Anna Andersson' },
    displayName: 'Anna Andersson',
  });
  t.deepEqual(await annaJoined, {
    room: 'moterum2',
    nick: 'anna-1',
    jid: anna.jid,
    identity: { user: { id: 'participant-17', name: 'Anna Andersson' } },
    displayName: 'Anna Andersson',
    role: 'participant',
    affiliation: 'none',
  });

  const bertilJoined = next(rooms, 'occupantJoined', (o) => o.nick === 'bertil-2');
  await bertil.join('moterum2', 'bertil-2', {
    identity: { id: 'staff-3', name: 'Bertil Berg', moderator: 'true' },
    displayName: 'Bertil Berg',
  });
  t.deepEqual((await bertilJoined).identity, { user: { id: 'staff-3', name: 'Bertil Berg', moderator: 'true' } });

  // The appliance itself is an occupant (to kick by nickname) but not a participant.
  t.deepEqual(
    rooms
      .occupants('moterum2')
      .map((o) => o.nick)
      .sort(),
    ['anna-1', 'bertil-2'],
  );

  const left = next(rooms, 'occupantLeft', (o) => o.nick === 'anna-1');
  await anna.xmpp.send(xml('presence', { to: `moterum2@${prosody.mucDomain}/anna-1`, type: 'unavailable' }));
  t.like(await left, {
    nick: 'anna-1',
    reason: 'left',
    identity: { user: { id: 'participant-17', name: 'Anna Andersson' } },
  });
  t.deepEqual(
    rooms.occupants('moterum2').map((o) => o.nick),
    ['bertil-2'],
  );
});

test('an occupant nobody booked is reported like any other, without an identity', async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum3');
  const stranger = await participant(t, prosody);
  const joined = next(rooms, 'occupantJoined');
  await stranger.join('moterum3', 'okand');
  const occupant = await joined;
  t.is(occupant.nick, 'okand');
  t.is(occupant.jid, stranger.jid);
  t.is(occupant.identity, undefined);
  t.is(occupant.displayName, undefined);
});

test('a participant removed from the meeting sees status 307 and is reported as kicked', async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum4');
  const anna = await participant(t, prosody);
  const bertil = await participant(t, prosody);
  await joinSeen(rooms, anna, 'moterum4', 'Anna');
  await joinSeen(rooms, bertil, 'moterum4', 'Bertil');

  const left = next(rooms, 'occupantLeft');
  await rooms.kick('moterum4', 'Bertil', 'Inte med i bokningen');
  const kicked = await bertil.presence((p) => p.attrs.type === 'unavailable' && hasStatus(p, '307'));
  t.true(hasStatus(kicked, '110'));
  t.is(kicked.getChild('x', NS_MUC_USER)?.getChild('item')?.getChildText('reason'), 'Inte med i bokningen');
  t.like(await left, { nick: 'Bertil', reason: 'kicked', status: 'Inte med i bokningen' });
  t.deepEqual(
    rooms.occupants('moterum4').map((o) => o.nick),
    ['Anna'],
  );
});

test("why an occupant left is reported as Prosody says it: a hang-up, a connection lost (in Prosody's words), a connection that just dropped, the room destroyed", async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum9');
  const anna = await participant(t, prosody);
  const bertil = await participant(t, prosody);
  const cecilia = await participant(t, prosody);
  const david = await participant(t, prosody);
  await joinSeen(rooms, anna, 'moterum9', 'Anna');
  await joinSeen(rooms, bertil, 'moterum9', 'Bertil');
  await joinSeen(rooms, cecilia, 'moterum9', 'Cecilia');
  await joinSeen(rooms, david, 'moterum9', 'David');

  // Anna hangs up: her client says goodbye itself, with no words.
  const annaLeft = next(rooms, 'occupantLeft', (o) => o.nick === 'Anna');
  await anna.leave('moterum9', 'Anna');
  const hungUp = await annaLeft;
  t.is(hungUp.reason, 'left');
  t.is(hungUp.status, undefined);

  // Bertil's connection stops answering: Prosody gives his session up and says why.
  const bertilLeft = next(rooms, 'occupantLeft', (o) => o.nick === 'Bertil');
  bertil.xmpp.reconnect.stop();
  await prosody.closeSessions(bertil.jid, 'connection-timeout');
  const dropped = await bertilLeft;
  t.is(dropped.reason, 'disconnected');
  t.is(dropped.status, 'Disconnected: connection-timeout');

  // David's TCP connection just dies (no goodbye, no end of the stream): Prosody says no words,
  // but the presence is its own, not his client's.
  const davidLeft = next(rooms, 'occupantLeft', (o) => o.nick === 'David');
  david.xmpp.reconnect.stop();
  present(david.xmpp.socket, "David's connection").destroy();
  const cut = await davidLeft;
  t.is(cut.reason, 'disconnected');
  t.is(cut.status, undefined);

  // The room ends: Cecilia is reported gone with what the room was told.
  const ceciliaLeft = next(rooms, 'occupantLeft', (o) => o.nick === 'Cecilia');
  await rooms.destroy('moterum9', 'Mötet är slut');
  t.like(await ceciliaLeft, { reason: 'destroyed', status: 'Mötet är slut' });
});

test('requests the server refuses fail with the XMPP condition name', async (t) => {
  const { rooms } = await setup(t);
  await rooms.createRoom('moterum5');
  const kick = await t.throwsAsync(rooms.kick('moterum5', 'ingen', 'finns inte'), { instanceOf: RoomControlError });
  t.is(kick.condition, 'item-not-found');
  const destroy = await t.throwsAsync(rooms.destroy('finnsinte', 'inget'), { instanceOf: RoomControlError });
  t.is(destroy.condition, 'item-not-found');
  await t.throwsAsync(rooms.createRoom('a@b'), { message: /not a room name/ });
});

test('after Prosody restarts mid-meeting the appliance reconnects, re-joins, re-applies the room settings and reports the participants again', async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum6', { password: 'hemligt', membersOnly: true });
  const anna = await participant(t, prosody, 'anna');
  const bertil = await participant(t, prosody, 'bertil');
  await rooms.grant('moterum6', anna.jid, 'member');
  await rooms.grant('moterum6', bertil.jid, 'owner');
  const identity = (id: string) => ({ id, name: id });
  await joinSeen(rooms, anna, 'moterum6', 'Anna', { password: 'hemligt', identity: identity('p-anna') });
  await joinSeen(rooms, bertil, 'moterum6', 'Bertil', { password: 'hemligt', identity: identity('s-bertil') });
  t.is(rooms.occupants('moterum6').length, 2);

  // Seen at the moment the connection drops (the adapter may be back before restart() returns).
  const whileDown = next(rooms, 'disconnected').then(() => ({
    state: rooms.state(),
    kick: rooms.kick('moterum6', 'Anna', 'x').catch((e: unknown) => e),
  }));
  let disconnects = 0;
  rooms.on('disconnected', () => {
    disconnects += 1;
  });
  const gone: string[] = [];
  rooms.on('occupantLeft', (o) => gone.push(`${o.nick} ${o.reason}`));
  // Prosody's stop and start are inside this wait: on a loaded machine they take seconds.
  const resynced = next(rooms, 'resynced', () => true, 30_000);
  await prosody.restart();
  const down = await whileDown;
  t.like(down.state, { connected: false, roomsOpen: 0, roomsControlled: 1 });
  t.like(await down.kick, { condition: 'not-connected' });

  t.deepEqual(await resynced, { rooms: ['moterum6'], failed: [] });
  t.like(rooms.state(), { connected: true, roomsOpen: 1, reconnects: 1 });
  t.is(disconnects, 1, 'failed reconnect attempts are not reported as new disconnects');
  // The restarted server lost everyone: they are reported gone (seen leaving as it shut down, their
  // sessions ended by Prosody, or missing when the room was re-joined), not silently kept.
  t.is(gone.length, 2);
  for (const nick of ['Anna', 'Bertil'])
    t.true(gone.includes(`${nick} disconnected`) || gone.includes(`${nick} missing`), gone.join());
  t.deepEqual(rooms.occupants('moterum6'), []);

  // The participants' clients reconnect by themselves; the room they come back to has its settings and grants again.
  await Promise.all(
    [anna, bertil].map((p) =>
      p.xmpp.status === 'online' ? Promise.resolve() : new Promise((r) => p.xmpp.once('online', r)),
    ),
  );
  t.true(features(await anna.disco('moterum6')).includes('muc_membersonly'));
  const back = new Set<string>();
  const bothBack = new Promise<void>((resolve) =>
    rooms.on('occupantJoined', (o) => {
      back.add(o.nick);
      if (back.size === 2) resolve();
    }),
  );
  t.true(hasStatus(await anna.join('moterum6', 'Anna', { password: 'hemligt', identity: identity('p-anna') }), '110'));
  const bertilBack = await bertil.join('moterum6', 'Bertil', { password: 'hemligt', identity: identity('s-bertil') });
  t.is(bertilBack.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation, 'owner');
  await bothBack;
  t.deepEqual(
    rooms
      .occupants('moterum6')
      .map((o) => [o.nick, o.identity?.user.id])
      .sort(),
    [
      ['Anna', 'p-anna'],
      ['Bertil', 's-bertil'],
    ],
  );
});

test("when the server closes the appliance's session it reconnects at once, and participants still in the room are not reported again", async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum8', { password: 'hemligt' });
  const anna = await participant(t, prosody);
  await joinSeen(rooms, anna, 'moterum8', 'Anna', { password: 'hemligt', identity: { id: 'p-anna', name: 'Anna' } });
  const events: string[] = [];
  rooms.on('occupantJoined', (o) => events.push(`joined ${o.nick}`));
  rooms.on('occupantLeft', (o) => events.push(`left ${o.nick} ${o.reason}`));
  const resynced = next(rooms, 'resynced');
  await prosody.closeSessions(`${prosody.controller.user}@${prosody.controller.domain}`);
  t.deepEqual(await resynced, { rooms: ['moterum8'], failed: [] });
  t.deepEqual(events, []);
  t.deepEqual(
    rooms.occupants('moterum8').map((o) => [o.nick, o.identity?.user.id]),
    [['Anna', 'p-anna']],
  );
  t.like(rooms.state(), { connected: true, roomsOpen: 1, reconnects: 1 });
  // Still the room's controller: it can remove a participant.
  await rooms.kick('moterum8', 'Anna', 'Test');
  await anna.presence((p) => hasStatus(p, '307'));
});

test('ending the meeting destroys the room: participants get the destroy presence and roomDestroyed is reported', async (t) => {
  const { prosody, rooms } = await setup(t);
  await rooms.createRoom('moterum7');
  const anna = await participant(t, prosody);
  await joinSeen(rooms, anna, 'moterum7', 'Anna');
  const left = next(rooms, 'occupantLeft');
  const destroyed = next(rooms, 'roomDestroyed');

  await rooms.destroy('moterum7', 'Mötet är avslutat');
  const gone = await anna.presence(
    (p) => p.attrs.type === 'unavailable' && Boolean(p.getChild('x', NS_MUC_USER)?.getChild('destroy')),
  );
  t.is(gone.getChild('x', NS_MUC_USER)!.getChild('destroy')!.getChildText('reason'), 'Mötet är avslutat');
  t.deepEqual(await destroyed, { room: 'moterum7', reason: 'Mötet är avslutat' });
  t.like(await left, { nick: 'Anna', reason: 'destroyed' });
  t.deepEqual(rooms.rooms(), []);
  t.deepEqual(rooms.occupants('moterum7'), []);
  const probe = await t.throwsAsync(anna.disco('moterum7'));
  t.is((probe as Error & { condition?: string }).condition, 'item-not-found');
});

test('against a Prosody that requires TLS the adapter connects by STARTTLS or direct TLS, and refuses a certificate it does not trust', async (t) => {
  const prosody = await startProsody({ tls: true });
  t.teardown(() => prosody.stop());
  // Node reads extra trusted certificates only at start: the trusting side runs in a child process.
  const script = `
    const { RoomControl } = await import(${JSON.stringify(new URL('../../appliance/src/rooms/xmpp.ts', import.meta.url).pathname)});
    const results = [];
    for (const service of ${JSON.stringify([prosody.service, prosody.directTlsService])}) {
      const rooms = new RoomControl({ ...${JSON.stringify(prosody.xmppConfig())}, service });
      rooms.on('problem', () => {});
      await rooms.start();
      results.push({ state: rooms.state(), configured: await rooms.createRoom('krypterat' + results.length, { password: 'hemligt' }) });
      await rooms.close();
    }
    process.stdout.write(JSON.stringify(results));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: prosody.caFile },
    timeout: 30_000,
  });
  const results = JSON.parse(stdout) as Array<{
    state: { connected: boolean; secure: boolean };
    configured: { created: boolean };
  }>;
  t.is(results.length, 2);
  for (const result of results) {
    t.like(result, {
      state: { connected: true, secure: true },
      configured: { created: true, passwordProtected: true },
    });
  }

  const untrusting = new RoomControl({ ...prosody.xmppConfig(), reconnect: { initialMs: 60_000 } });
  untrusting.on('problem', () => {});
  t.teardown(() => untrusting.close());
  await t.throwsAsync(untrusting.start(), { message: /self-signed certificate/ });
  t.false(untrusting.state().connected);
});

test('a new leader takes the room over while the dead leader is still an occupant: the same nickname is its second session, not a conflict', async (t) => {
  const { prosody, rooms: dead } = await setup(t, openDefaults);
  await dead.createRoom('overtagen');
  const cecilia = await participant(t, prosody);
  await joinSeen(dead, cecilia, 'overtagen', 'Cecilia');

  // The leader's process died, but Prosody has not noticed yet (a host gone without closing its
  // connection): its occupant, nickname "samverka", is still in the room when the next leader -
  // the same account, another resource - joins under the same nickname.
  const successor = new RoomControl({ ...prosody.xmppConfig(), resource: 'samverka-next' });
  successor.on('problem', () => {});
  t.teardown(() => successor.close());
  await successor.start();
  const seen = new Promise<Occupant>((resolve) => successor.once('occupantJoined', resolve));
  t.deepEqual(await successor.createRoom('overtagen'), {
    created: false,
    membersOnly: false,
    passwordProtected: false,
  });
  t.is((await seen).nick, 'Cecilia');

  // The dead session ends at last; the new leader stays, and still controls the room.
  await dead.close();
  await successor.kick('overtagen', 'Cecilia', 'Inte med i bokningen');
  t.true(hasStatus(await cecilia.presence((p) => p.attrs.type === 'unavailable' && hasStatus(p, '307')), '307'));
  t.is(successor.state().roomsOpen, 1);
});

/** A room's unavailable presence of an occupant as Prosody passes it on, with or without xml:lang. */
const leaving = (lang: string | undefined, ...children: XmlElement[]) =>
  xml(
    'presence',
    {
      from: 'moterum9@muc.example/David',
      to: 'samverka@hidden.example/x',
      type: 'unavailable',
      ...(lang ? { 'xml:lang': lang } : {}),
    },
    xml('x', { xmlns: NS_MUC_USER }, xml('item', { affiliation: 'none', role: 'none' })),
    ...children,
  );

test('a connection Prosody ended in its own words is lost, whether or not its presence carries xml:lang', (t) => {
  // mod_presence's words when it ends a session over an error; how a Jitsi participant's dropped
  // connection ends on Jitsi's Prosody (mod_smacks gives the session up after its hibernation).
  for (const words of ['Disconnected: connection-timeout', 'Disconnected: Hibernating too long'])
    for (const lang of [undefined, 'en', 'sv'])
      t.deepEqual(
        whyLeft(leaving(lang, xml('status', {}, words))),
        { reason: 'disconnected', status: words },
        `${words} ${lang}`,
      );
});

test("without words, a presence with no xml:lang is the one Prosody made for a closed session; one with it is the client's goodbye", (t) => {
  t.deepEqual(whyLeft(leaving(undefined)), { reason: 'disconnected' });
  t.deepEqual(whyLeft(leaving('en')), { reason: 'left' });
  // Jitsi leaving the room with its reason (lib-jitsi-meet's doLeave): a hang-up in the client's words.
  t.deepEqual(whyLeft(leaving('en', xml('status', {}, 'Hung up'))), { reason: 'left', status: 'Hung up' });
  // A kick and a destroyed room say so by their codes and elements, in either form.
  for (const lang of [undefined, 'en']) {
    const kicked = xml(
      'presence',
      { type: 'unavailable', ...(lang ? { 'xml:lang': lang } : {}) },
      xml(
        'x',
        { xmlns: NS_MUC_USER },
        xml('item', { role: 'none' }, xml('reason', {}, 'Inte med i bokningen')),
        xml('status', { code: '307' }),
      ),
    );
    t.deepEqual(whyLeft(kicked), { reason: 'kicked', status: 'Inte med i bokningen' });
    const destroyed = xml(
      'presence',
      { type: 'unavailable', ...(lang ? { 'xml:lang': lang } : {}) },
      xml('x', { xmlns: NS_MUC_USER }, xml('destroy', {}, xml('reason', {}, 'Mötet är slut'))),
    );
    t.deepEqual(whyLeft(destroyed), { reason: 'destroyed', status: 'Mötet är slut' });
  }
});

test('xml:lang on an unavailable presence never changes what its status codes or <destroy/> say: kicked, banned, removed, destroyed', (t) => {
  // XEP-0045's codes for being put out of a room (§9.2, §9.4, §9.7, §9.8, §10.9): 301 banned,
  // 307 kicked, 321 affiliation changed, 322 members-only, 332 service shutdown; a destroyed room's
  // <destroy/>. Prosody or a module may stamp xml:lang on any of them; the reading is the same.
  const byCode = { '301': 'banned', '307': 'kicked', '321': 'removed', '322': 'removed', '332': 'removed' };
  for (const lang of [undefined, '', 'en', 'sv'])
    for (const words of [undefined, 'Borttagen från mötet av personalen.']) {
      const reason = words ? [xml('reason', {}, words)] : [];
      const stamped = (...children: XmlElement[]) =>
        xml(
          'presence',
          {
            from: 'moterum9@muc.example/David',
            type: 'unavailable',
            ...(lang === undefined ? {} : { 'xml:lang': lang }),
          },
          xml('x', { xmlns: NS_MUC_USER }, ...children),
        );
      const status = words ? { status: words } : {};
      for (const [code, expected] of Object.entries(byCode))
        t.deepEqual(
          whyLeft(stamped(xml('item', { affiliation: 'none', role: 'none' }, ...reason), xml('status', { code }))),
          { reason: expected, ...status },
          `${code} xml:lang=${String(lang)} ${words ? 'with' : 'without'} a reason`,
        );
      // The room destroyed: by <destroy/> alone, and beside a status code it overrides.
      t.deepEqual(
        whyLeft(stamped(xml('destroy', {}, ...reason))),
        { reason: 'destroyed', ...status },
        `destroy ${lang}`,
      );
      t.deepEqual(
        whyLeft(stamped(xml('destroy', {}, ...reason), xml('status', { code: '307' }))),
        { reason: 'destroyed', ...status },
        `destroy beside 307 ${lang}`,
      );
    }
});
