// Room control over XMPP against Debian's Prosody started here: create+configure through the
// adapter beside raw @xmpp/client sending the same stanzas, and the presence burst of 200 rooms
// with 4 occupants each (time to process it and the process's memory). The occupants' clients run
// in a child process so the memory figures are the adapter's. Last, the same burst handled by the
// whole appliance (rooms plugin, database, connection log).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { client, xml, type Client, type XmlElement } from '@xmpp/client';
import { guardAgainstLateData, RoomControl } from '../appliance/src/rooms/xmpp.ts';
import { startProsody, type Prosody } from '../test/helpers/prosody.ts';
import { present } from '../test/helpers/present.ts';
import { insertMeeting, insertParticipants } from '../appliance/src/meetings/store.ts';
import { insertRoom } from '../appliance/src/rooms/store.ts';
import { benchServer, isMain, percentile, table } from './harness.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';

const createRounds = Number(process.env.BENCH_XMPP_CREATES ?? 300);
const burstRooms = Number(process.env.BENCH_XMPP_ROOMS ?? 200);
const occupantsPerRoom = 4;

export async function run(): Promise<void> {
  const prosody = await startProsody();
  try {
    await createAndConfigure(prosody);
    await presenceBurst(prosody);
  } finally {
    await prosody.stop();
  }
}

async function createAndConfigure(prosody: Prosody): Promise<void> {
  const rooms = new RoomControl(prosody.xmppConfig());
  rooms.on('problem', () => {});
  await rooms.start();
  const raw = await rawController(prosody, 'raw-create');
  const adapterMs: number[] = [];
  const rawMs: number[] = [];
  // Interleaved in batches so that both sides see the same machine.
  for (let batch = 0; batch < createRounds / 50; batch++) {
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await rooms.createRoom(`adapter-${batch}-${i}`, { password: 'bench', membersOnly: true });
      adapterMs.push(performance.now() - t0);
    }
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await raw.createRoom(`raw-${batch}-${i}`, 'bench');
      rawMs.push(performance.now() - t0);
    }
  }
  await rooms.close();
  await raw.xmpp.stop();
  const a = quantiles(adapterMs);
  const r = quantiles(rawMs);
  table(
    `Room create+configure (join, read form, submit form), ${adapterMs.length} rooms each`,
    ['case', 'p50 ms', 'p90 ms', 'p50 ÷ raw'],
    [
      ['raw @xmpp/client, same stanzas (baseline)', r.p50, r.p90, 1],
      ['RoomControl.createRoom', a.p50, a.p90, a.p50 / r.p50],
    ],
  );
}

async function presenceBurst(prosody: Prosody): Promise<void> {
  const names = Array.from({ length: burstRooms }, (_, i) => `burst-${i}`);
  const expected = names.length * occupantsPerRoom;
  const occupants = await occupantProcess(prosody, names);

  // The adapter alone in this process: its memory before the rooms exist and after the burst.
  gc();
  const before = process.memoryUsage();
  const rooms = new RoomControl(prosody.xmppConfig());
  rooms.on('problem', () => {});
  await rooms.start();
  for (const name of names) await rooms.createRoom(name);
  // A first burst warms Prosody and the JIT up; the second one is measured (the raw baseline is a third).
  const seatEvents = (event: 'occupantJoined' | 'occupantLeft') =>
    new Promise<number>((resolve) => {
      let n = 0;
      const listener = (o: { nick: string }) => {
        if (!o.nick.startsWith('seat-') || ++n < expected) return;
        rooms.off(event, listener);
        resolve(performance.now());
      };
      rooms.on(event, listener);
    });
  const warmJoined = seatEvents('occupantJoined');
  await occupants.command('join');
  await warmJoined;
  const warmLeft = seatEvents('occupantLeft');
  await occupants.command('leave');
  await warmLeft;
  const allJoined = seatEvents('occupantJoined');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await occupants.command('join');
  const lastJoin = await allJoined;
  const adapterCpu = cpuMs(process.cpuUsage(cpu0));
  const adapterBurst = lastJoin - t0;
  gc();
  const after = process.memoryUsage();
  const counted = names.reduce((n, name) => n + rooms.occupants(name).length, 0);

  // Baseline: a raw session in the same rooms that only counts the occupants' presences.
  const raw = await rawController(prosody, 'raw-observer');
  for (const name of names) await raw.join(name);
  await rooms.close();
  const fromSeat = (s: XmlElement) => s.is('presence') && (s.attrs.from ?? '').includes('/seat-');
  let left = 0;
  const allLeft = new Promise<void>((resolve) =>
    raw.xmpp.on('stanza', (s: XmlElement) => {
      if (fromSeat(s) && s.attrs.type === 'unavailable' && ++left === expected) resolve();
    }),
  );
  await occupants.command('leave');
  await allLeft;
  let seen = 0;
  let rawLast = 0;
  const rawAll = new Promise<void>((resolve) =>
    raw.xmpp.on('stanza', (s: XmlElement) => {
      if (fromSeat(s) && s.attrs.type === undefined && ++seen === expected) {
        rawLast = performance.now();
        resolve();
      }
    }),
  );
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  await occupants.command('join');
  await rawAll;
  const rawCpu = cpuMs(process.cpuUsage(cpu1));
  const rawBurst = rawLast - t1;
  await raw.xmpp.stop();
  await occupants.command('leave');

  const appliance = await applianceBurst(prosody, names, occupants);
  await occupants.stop();

  const mb = (n: number) => n / 1024 / 1024;
  table(
    `Presence burst: ${names.length} rooms × ${occupantsPerRoom} occupants join at once (${expected} joins, clients in a child process; wall time is mostly Prosody's, CPU is this process's)`,
    ['case', 'ms to see all joins', 'joins/s', 'CPU ms', 'wall ÷ raw', 'CPU ÷ raw'],
    [
      ['raw @xmpp/client counting presences (baseline)', rawBurst, expected / (rawBurst / 1000), rawCpu, 1, 1],
      [
        `RoomControl occupantJoined (${counted} occupants held)`,
        adapterBurst,
        expected / (adapterBurst / 1000),
        adapterCpu,
        adapterBurst / rawBurst,
        adapterCpu / rawCpu,
      ],
    ],
  );
  table(
    'Process memory around the burst (adapter with its rooms and occupants)',
    ['measure', 'before MB', 'after MB', 'growth MB'],
    [
      ['rss', mb(before.rss), mb(after.rss), mb(after.rss - before.rss)],
      ['heapUsed', mb(before.heapUsed), mb(after.heapUsed), mb(after.heapUsed - before.heapUsed)],
    ],
  );
  table(
    `The appliance handling the same burst: each occupant mapped to a participant, presence recorded, statuses moved, the connection log written (SQLite)`,
    ['case', 'ms until all recorded', 'joins/s', 'wall ÷ raw', 'rss before MB', 'rss after MB', 'heapUsed growth MB'],
    [
      [
        'rooms plugin',
        appliance.ms,
        expected / (appliance.ms / 1000),
        appliance.ms / rawBurst,
        mb(appliance.before.rss),
        mb(appliance.after.rss),
        mb(appliance.after.heapUsed - appliance.before.heapUsed),
      ],
    ],
  );
}

/** The whole appliance in this process, its rooms opened by its own schedule, the same occupants joining. */
async function applianceBurst(
  prosody: Prosody,
  names: string[],
  occupants: OccupantProcess,
): Promise<{ ms: number; before: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage }> {
  const x = prosody.xmppConfig();
  const app = await benchServer({
    XMPP_SERVICE: x.service,
    XMPP_DOMAIN: x.domain,
    XMPP_MUC_DOMAIN: x.mucDomain,
    XMPP_USER: x.user,
    XMPP_PASSWORD: x.password,
    REMINDER_OFFSETS: 'none',
  });
  try {
    const db = app.server.app.db;
    while (!app.server.plugins.rooms.control?.state().connected) await new Promise((r) => setTimeout(r, 20));
    const { staff } = await app.staff('clinician');
    const startsAt = new Date(Date.now() + 5 * 60_000);
    // One meeting per room, its four guests named as the occupants introduce themselves.
    for (const name of names) {
      await db.transaction(async (trx) => {
        const id = await insertMeeting(trx, {
          unitId: staff.unitId,
          title: 'Burst',
          startsAt,
          durationMinutes: 60,
          bookedBy: staff.id,
          ledBy: staff.id,
          documentationPlan: 'Journal',
          testMeeting: false,
        });
        await insertParticipants(
          trx,
          id,
          Array.from(
            { length: occupantsPerRoom },
            (_, seat) =>
              ({
                kind: seat === 0 ? 'patient' : 'guest',
                identification: seat === 0 ? 'sms' : 'none',
                name: `Deltagare ${seat}`,
                country: 'SE',
                mobile: seat === 0 ? '+46701234567' : null,
                email: seat === 0 ? null : `seat${seat}@example.org`,
                personalNumber: null,
                proxy: null,
                staffId: null,
                language: 'sv',
              }) as const,
          ),
          0,
          app.config.dataKey,
        );
        await insertRoom(trx, id, name);
      });
    }
    await app.server.plugins.rooms.service.tick();
    gc();
    const before = process.memoryUsage();
    const t0 = performance.now();
    await occupants.command('join');
    const expected = names.length * occupantsPerRoom;
    for (;;) {
      const [row] = await db('room_presence').whereNull('left_at').count({ n: '*' });
      const { n } = present(row, 'the count of occupants present');
      if (Number(n) >= expected) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t0;
    gc();
    return { ms, before, after: process.memoryUsage() };
  } finally {
    await occupants.command('leave');
    await app.stop();
  }
}

// A full collection before each memory reading, so the figures are what stays, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

const quantiles = (values: number[]) => ({ p50: percentile(values, 50), p90: percentile(values, 90) });

interface RawController {
  xmpp: Client;
  createRoom(room: string, password: string): Promise<void>;
  join(room: string): Promise<void>;
  isSelf(presence: XmlElement): boolean;
}

/** The controller's account in a second session, speaking XEP-0045 directly: what the adapter is measured against. */
async function rawController(prosody: Prosody, resource: string): Promise<RawController> {
  const { user, password, domain } = prosody.controller;
  const xmpp = guardAgainstLateData(
    client({
      service: prosody.service,
      domain,
      resource,
      credentials: (authenticate) => authenticate({ username: user, password }, 'PLAIN'),
    }),
  );
  xmpp.on('error', () => {});
  xmpp.reconnect.stop();
  const selfWaiters = new Map<string, () => void>();
  xmpp.on('stanza', (s: XmlElement) => {
    if (!s.is('presence')) return;
    const from = s.attrs.from ?? '';
    const waiter = selfWaiters.get(from);
    if (waiter && (s.attrs.type === 'error' || isSelf(s))) {
      selfWaiters.delete(from);
      waiter();
    }
  });
  await xmpp.start();
  const isSelf = (s: XmlElement) =>
    Boolean(
      s
        .getChild('x', NS_MUC_USER)
        ?.getChildren('status')
        .some((st) => st.attrs.code === '110'),
    );
  const join = async (room: string, roomPassword?: string) => {
    const to = `${room}@${prosody.mucDomain}/${resource}`;
    const joined = new Promise<void>((resolve) => selfWaiters.set(to, resolve));
    await xmpp.send(
      xml(
        'presence',
        { to },
        xml(
          'x',
          { xmlns: NS_MUC },
          xml('history', { maxstanzas: 0 }),
          roomPassword ? xml('password', {}, roomPassword) : null,
        ),
      ),
    );
    await joined;
  };
  return {
    xmpp,
    isSelf,
    join,
    async createRoom(room, roomPassword) {
      const to = `${room}@${prosody.mucDomain}`;
      await join(room, roomPassword);
      await xmpp.iqCaller.request(xml('iq', { type: 'get', to }, xml('query', { xmlns: NS_MUC_OWNER })));
      const field = (name: string, value: string) => xml('field', { var: name }, xml('value', {}, value));
      await xmpp.iqCaller.request(
        xml(
          'iq',
          { type: 'set', to },
          xml(
            'query',
            { xmlns: NS_MUC_OWNER },
            xml(
              'x',
              { xmlns: 'jabber:x:data', type: 'submit' },
              field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'),
              field('muc#roomconfig_publicroom', '0'),
              field('muc#roomconfig_persistentroom', '0'),
              field('muc#roomconfig_membersonly', '1'),
              field('muc#roomconfig_roomsecret', roomPassword),
            ),
          ),
        ),
      );
    },
  };
}

interface OccupantProcess {
  /** Sends every occupant's join (or leave) presence for every room; resolves once all are sent. */
  command(what: 'join' | 'leave'): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the occupants' clients (one per seat, each in every room) in a child process. */
async function occupantProcess(prosody: Prosody, rooms: string[]): Promise<OccupantProcess> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      SAMVERKA_BENCH_OCCUPANTS: JSON.stringify({
        service: prosody.service,
        domain: prosody.guestDomain,
        mucDomain: prosody.mucDomain,
        rooms,
      }),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reply = () =>
    new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`occupant process exited with ${code}`)));
    });
  await reply();
  return {
    async command(what) {
      const done = reply();
      child.send(what);
      await done;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await exited;
    },
  };
}

/** The child's side: connect the seats, then join or leave every room on command. */
async function occupantWorker(setup: {
  service: string;
  domain: string;
  mucDomain: string;
  rooms: string[];
}): Promise<void> {
  const seats = await Promise.all(
    Array.from({ length: occupantsPerRoom }, async (_, seat) => {
      const xmpp = guardAgainstLateData(client({ service: setup.service, domain: setup.domain }));
      xmpp.on('error', () => {});
      xmpp.reconnect.stop();
      await xmpp.start();
      return { xmpp, seat };
    }),
  );
  const presence = (seat: number, room: string, type?: string) =>
    xml(
      'presence',
      { to: `${room}@${setup.mucDomain}/seat-${seat}`, type },
      type ? null : xml('x', { xmlns: NS_MUC }),
      type
        ? null
        : xml(
            'identity',
            {},
            xml('user', {}, xml('id', {}, `participant-${seat}`), xml('name', {}, `Deltagare ${seat}`)),
          ),
    );
  process.on('message', async (what: string) => {
    if (what === 'stop') {
      await Promise.all(seats.map((s) => s.xmpp.stop().catch(() => {})));
      process.exit(0);
    }
    await Promise.all(
      seats.map(async ({ xmpp, seat }) => {
        for (const room of setup.rooms)
          await xmpp.send(presence(seat, room, what === 'leave' ? 'unavailable' : undefined));
      }),
    );
    process.send!('sent');
  });
  process.send!('ready');
}

if (process.env.SAMVERKA_BENCH_OCCUPANTS) await occupantWorker(JSON.parse(process.env.SAMVERKA_BENCH_OCCUPANTS));
else if (isMain(import.meta.url)) await run();
