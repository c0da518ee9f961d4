// The XMPP adapter: one client session to Jitsi's Prosody, as a user of Jitsi's hidden domain, that
// creates, configures, watches, kicks from and destroys MUC rooms (XEP-0045). The only importer of
// @xmpp/client. It knows rooms, nicknames and JIDs; mapping occupants to participants is the rooms
// domain's business.
import { EventEmitter } from 'node:events';
import { client, xml, type Client, type XmlElement } from '@xmpp/client';
import { must } from '../common/must.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const NS_NICK = 'http://jabber.org/protocol/nick';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export interface XmppOptions {
  /** `xmpp://host:5222` (STARTTLS used when the server offers it) or `xmpps://host:5223` (direct TLS). */
  service: string;
  /** The domain of the appliance's account: Jitsi's hidden domain, so clients do not show it. */
  domain: string;
  mucDomain: string;
  user: string;
  password: string;
  /** The nickname the appliance takes in each room. */
  nick?: string;
  resource?: string;
  /** How long each request waits for its answer. */
  requestTimeoutMs?: number;
  /** Reconnect back-off: the first delay, doubled on each failed attempt up to the maximum. */
  reconnect?: { initialMs?: number; maxMs?: number };
}

/**
 * What Jitsi's Prosody puts in presence from the JWT (mod_presence_identity):
 * `<identity><user>…</user><group>…</group></identity>`.
 */
export interface Identity {
  /** Every child of `<user>` as text: `id`, `name`, and whatever else the token's context.user held. */
  user: Record<string, string>;
  group?: string;
}

export interface Occupant {
  room: string;
  nick: string;
  /** The real JID, which the room shows to its owners. */
  jid?: string;
  identity?: Identity;
  /** The display name Jitsi clients send in `<nick xmlns='http://jabber.org/protocol/nick'>`. */
  displayName?: string;
  role: string;
  affiliation: string;
}

/**
 * Why an occupant is no longer in the room: `left` of their own accord (a Jitsi client's hang-up),
 * `disconnected` when their session ended without their goodbye (a connection dropped, lost or timed
 * out; Prosody ended it), `error`
 * when the room put them out after an error (status 333), `missing` when not there any more after
 * a reconnect.
 */
export type LeaveReason =
  'left' | 'disconnected' | 'kicked' | 'banned' | 'removed' | 'renamed' | 'destroyed' | 'error' | 'missing';

/** An occupant gone from the room, why, and in the words the server gave, where it gave any. */
export type Departure = Occupant & {
  reason: LeaveReason;
  /** The kick's or the room's end's reason, or the presence's status text (Prosody's "Disconnected: …"). */
  status?: string;
};

export type Grant = 'owner' | 'member' | 'none';

export interface RoomOptions {
  password?: string;
  /** Only members (and owners) may enter; applied where the server's room form offers it. */
  membersOnly?: boolean;
}

export interface RoomConfigured {
  /** The room was created by this request (status 201), rather than found existing. */
  created: boolean;
  membersOnly: boolean;
  passwordProtected: boolean;
}

export interface RoomControlState {
  connected: boolean;
  /** The session runs over TLS (direct, or STARTTLS because the server offered it). */
  secure: boolean;
  status: string;
  /** Rooms the adapter controls and is currently an occupant of. */
  roomsOpen: number;
  roomsControlled: number;
  reconnects: number;
}

export interface RoomControlEvents {
  occupantJoined: [Occupant];
  occupantLeft: [Departure];
  roomDestroyed: [{ room: string; reason?: string }];
  connected: [];
  disconnected: [];
  /** After a reconnect every controlled room has been re-joined (or failed to): occupants are current again. */
  resynced: [{ rooms: string[]; failed: Array<{ room: string; error: Error }> }];
  /** A problem that the adapter survives (a failed reconnect, a stream error); worth a log line. */
  problem: [Error];
}

/** An XMPP error (or timeout) turned into an Error that names its condition, e.g. `forbidden`. */
export class RoomControlError extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
    this.name = 'RoomControlError';
  }
}

interface PendingJoin {
  promise: Promise<boolean>;
  resolve: (created: boolean) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface ControlledRoom {
  name: string;
  options: RoomOptions;
  /** Affiliations granted through this adapter, applied again if the room had to be re-created. */
  grants: Map<string, Grant>;
  occupants: Map<string, Occupant>;
  joined: boolean;
  pending?: PendingJoin;
  /** While re-joining after a reconnect: who was there before, so that only changes are reported. */
  before?: Map<string, Occupant>;
  destroyed?: boolean;
}

export class RoomControl extends EventEmitter<RoomControlEvents> {
  readonly #options: Required<Omit<XmppOptions, 'reconnect'>> & { reconnect: { initialMs: number; maxMs: number } };
  readonly #xmpp: Client;
  readonly #rooms = new Map<string, ControlledRoom>();
  #everOnline = false;
  #isOnline = false;
  #endingStream = false;
  #closed = false;
  #reconnects = 0;

  constructor(options: XmppOptions) {
    super();
    if (!options.service || !options.domain || !options.mucDomain || !options.user || !options.password) {
      throw new Error('xmpp options need service, domain, mucDomain, user and password');
    }
    this.#options = {
      nick: 'samverka',
      resource: `samverka-${process.pid}`,
      requestTimeoutMs: 5_000,
      ...options,
      reconnect: { initialMs: 500, maxMs: 30_000, ...options.reconnect },
    };
    const { password } = options;
    this.#xmpp = client({
      service: options.service,
      domain: options.domain,
      resource: this.#options.resource,
      timeout: this.#options.requestTimeoutMs,
      // Prefer PLAIN when the server offers it: Prosody offers it only over TLS or where
      // allow_unencrypted_plain_auth says the link is trusted (loopback, a private network).
      // SCRAM-SHA-1 costs ~0.9 s of CPU per login in this library, on every reconnect.
      credentials: async (authenticate, mechanisms) => {
        const mechanism = mechanisms.includes('PLAIN') ? 'PLAIN' : mechanisms[0];
        if (!mechanism) throw new Error('the XMPP server offers no SASL mechanism');
        await authenticate({ username: options.user, password }, mechanism);
      },
    });
    guardAgainstLateData(this.#xmpp);
    this.#xmpp.reconnect.delay = this.#options.reconnect.initialMs;
    this.#xmpp.reconnect.on('reconnecting', () => {
      this.#xmpp.reconnect.delay = Math.min(this.#xmpp.reconnect.delay * 2, this.#options.reconnect.maxMs);
    });
    this.#xmpp.on('error', (error: Error) => this.emit('problem', error));
    this.#xmpp.on('online', () => this.#online());
    this.#xmpp.on('disconnect', () => this.#offline());
    // The server ended the stream (a session closed by an admin, a stream error): end ours and the
    // socket now, rather than after the server's close timeout (5 s in Prosody), and reconnect.
    // Once per session: ending the stream passes through 'close' again.
    this.#xmpp.on('close', () => {
      if (this.#closed || this.#endingStream) return;
      this.#endingStream = true;
      this.#xmpp.disconnect().catch(() => {});
    });
    this.#xmpp.on('stanza', (stanza: XmlElement) => {
      if (stanza.is('presence')) this.#presence(stanza);
    });
  }

  /** Connects; resolves when online, rejects if this first attempt fails (reconnecting goes on regardless). */
  async start(): Promise<void> {
    await this.#xmpp.start();
  }

  /** Leaves nothing behind: stops reconnecting and closes the session (the rooms are left by the server). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#xmpp.reconnect.stop();
    for (const room of this.#rooms.values())
      this.#failPending(room, new RoomControlError('not-connected', 'room control closed'));
    try {
      await this.#xmpp.stop();
    } catch {
      // A connection that is already gone is closed enough.
    }
  }

  state(): RoomControlState {
    const rooms = [...this.#rooms.values()];
    return {
      connected: this.#xmpp.status === 'online',
      secure: this.#xmpp.status === 'online' && this.#xmpp.isSecure(),
      status: this.#xmpp.status,
      roomsOpen: rooms.filter((r) => r.joined).length,
      roomsControlled: rooms.length,
      reconnects: this.#reconnects,
    };
  }

  /**
   * Creates the room (or takes over an existing one) and configures it: not public, not persistent,
   * members-only if asked and the server allows it, protected by the password if one is given.
   * The adapter stays in the room as an occupant, because kicking by nickname requires that.
   */
  async createRoom(name: string, options: RoomOptions = {}): Promise<RoomConfigured> {
    const roomName = checkRoomName(name);
    const known = this.#rooms.get(roomName);
    const room: ControlledRoom = known ?? {
      name: roomName,
      options,
      grants: new Map(),
      occupants: new Map(),
      joined: false,
    };
    if (!known) this.#rooms.set(roomName, room);
    room.options = options;
    try {
      const created = room.joined ? false : await this.#join(room);
      return { created, ...(await this.#configure(room)) };
    } catch (error) {
      // A room asked for the first time is forgotten again; one already controlled keeps its grants for the
      // next resync.
      if (!known && !room.joined && this.#rooms.get(roomName) === room) this.#rooms.delete(roomName);
      throw error;
    }
  }

  /** Sets a JID's affiliation: owner (Jitsi moderator), member (may enter a members-only room) or none. */
  async grant(name: string, jid: string, affiliation: Grant): Promise<void> {
    const roomName = checkRoomName(name);
    const [bare = jid] = jid.split('/');
    await this.#request(
      'set',
      this.#roomJid(roomName),
      xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { jid: bare, affiliation })),
      `grant ${affiliation} in ${roomName}`,
    );
    const room = this.#rooms.get(roomName);
    if (affiliation === 'none') room?.grants.delete(bare);
    else room?.grants.set(bare, affiliation);
  }

  /** Removes an occupant by nickname (role none); the occupant sees status 307 with the reason. */
  async kick(name: string, nick: string, reason: string): Promise<void> {
    const roomName = checkRoomName(name);
    await this.#request(
      'set',
      this.#roomJid(roomName),
      xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { nick, role: 'none' }, xml('reason', {}, reason))),
      `kick from ${roomName}`,
    );
  }

  /** Destroys the room with a reason, which ends the meeting for everyone in it. */
  async destroy(name: string, reason: string): Promise<void> {
    const roomName = checkRoomName(name);
    const room = this.#rooms.get(roomName);
    if (room) room.destroyed = true;
    try {
      await this.#request(
        'set',
        this.#roomJid(roomName),
        xml('query', { xmlns: NS_MUC_OWNER }, xml('destroy', {}, xml('reason', {}, reason))),
        `destroy ${roomName}`,
      );
    } catch (error) {
      if (room) room.destroyed = false;
      throw error;
    }
    // Prosody sends the destroy presence before the result; this covers a server that does not.
    if (room && this.#rooms.get(roomName) === room) this.#roomGone(room, reason);
  }

  occupants(name: string): Occupant[] {
    return [...(this.#rooms.get(name.toLowerCase())?.occupants.values() ?? [])];
  }

  /** The rooms this adapter controls. */
  rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  #roomJid(room: string, nick?: string): string {
    return `${room}@${this.#options.mucDomain}${nick ? `/${nick}` : ''}`;
  }

  async #join(room: ControlledRoom): Promise<boolean> {
    if (this.#xmpp.status !== 'online')
      throw new RoomControlError('not-connected', `cannot join ${room.name}: not connected to XMPP`);
    // Two requests for the same room while joining share the one join.
    if (room.pending) return room.pending.promise;
    let settle!: Omit<PendingJoin, 'promise' | 'timer'>;
    const created = new Promise<boolean>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const timer = setTimeout(() => {
      room.pending = undefined;
      settle.reject(new RoomControlError('timeout', `joining ${room.name} timed out`));
    }, this.#options.requestTimeoutMs);
    room.pending = { promise: created, ...settle, timer };
    const x = xml(
      'x',
      { xmlns: NS_MUC },
      xml('history', { maxstanzas: 0 }),
      room.options.password ? xml('password', {}, room.options.password) : null,
    );
    await this.#xmpp.send(xml('presence', { to: this.#roomJid(room.name, this.#options.nick) }, x));
    return created;
  }

  async #configure(room: ControlledRoom): Promise<Omit<RoomConfigured, 'created'>> {
    const to = this.#roomJid(room.name);
    const query = await this.#request(
      'get',
      to,
      xml('query', { xmlns: NS_MUC_OWNER }),
      `read the configuration of ${room.name}`,
    );
    const offered = new Set(
      query
        ?.getChild('x', NS_DATA)
        ?.getChildren('field')
        .map((f) => f.attrs.var ?? '') ?? [],
    );
    const membersOnly = Boolean(room.options.membersOnly) && offered.has('muc#roomconfig_membersonly');
    const password = room.options.password ?? '';
    const values: Record<string, string> = {
      FORM_TYPE: 'http://jabber.org/protocol/muc#roomconfig',
      'muc#roomconfig_publicroom': '0',
      'muc#roomconfig_persistentroom': '0',
      'muc#roomconfig_membersonly': membersOnly ? '1' : '0',
      'muc#roomconfig_passwordprotectedroom': password ? '1' : '0',
      'muc#roomconfig_roomsecret': password,
    };
    const fields = Object.entries(values)
      .filter(([name]) => name === 'FORM_TYPE' || offered.has(name))
      .map(([name, value]) => xml('field', { var: name }, xml('value', {}, value)));
    await this.#request(
      'set',
      to,
      xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields)),
      `configure ${room.name}`,
    );
    return { membersOnly, passwordProtected: Boolean(password) && offered.has('muc#roomconfig_roomsecret') };
  }

  async #request(type: 'get' | 'set', to: string, child: XmlElement, what: string): Promise<XmlElement | undefined> {
    if (this.#xmpp.status !== 'online')
      throw new RoomControlError('not-connected', `cannot ${what}: not connected to XMPP`);
    try {
      const reply = await this.#xmpp.iqCaller.request(xml('iq', { type, to }, child), this.#options.requestTimeoutMs);
      return reply.getChild(child.name, child.attrs.xmlns);
    } catch (error) {
      throw asRoomControlError(error, what);
    }
  }

  #online(): void {
    this.#xmpp.reconnect.delay = this.#options.reconnect.initialMs;
    this.#isOnline = true;
    this.#endingStream = false;
    this.emit('connected');
    if (!this.#everOnline) {
      this.#everOnline = true;
      return;
    }
    this.#reconnects += 1;
    void this.#resync();
  }

  #offline(): void {
    for (const room of this.#rooms.values()) {
      room.joined = false;
      this.#failPending(room, new RoomControlError('not-connected', `connection lost while joining ${room.name}`));
    }
    // Each failed reconnect attempt ends in a disconnect too: report only the loss of a live session.
    if (this.#isOnline && !this.#closed) this.emit('disconnected');
    this.#isOnline = false;
  }

  /**
   * After a reconnect: join every controlled room again, re-apply its configuration and grants, and report
   * who came and went meanwhile.
   */
  async #resync(): Promise<void> {
    const rooms = [...this.#rooms.values()];
    const results = await Promise.allSettled(
      rooms.map(async (room) => {
        room.before = room.occupants;
        room.occupants = new Map();
        try {
          await this.#join(room);
          // A restarted server lost the room (it is not persistent): the re-join created it afresh.
          await this.#configure(room);
          for (const [jid, affiliation] of room.grants) {
            await this.grant(room.name, jid, affiliation);
          }
        } finally {
          const before = room.before;
          room.before = undefined;
          for (const [nick, occupant] of before) {
            if (!room.occupants.has(nick)) this.emit('occupantLeft', { ...occupant, reason: 'missing' });
          }
        }
      }),
    );
    if (this.#closed) return;
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ room: must(rooms[i], 'the room resynced').name, error: r.reason as Error }] : [],
    );
    this.emit('resynced', { rooms: rooms.map((r) => r.name), failed });
  }

  #failPending(room: ControlledRoom, error: Error): void {
    if (!room.pending) return;
    clearTimeout(room.pending.timer);
    room.pending.reject(error);
    room.pending = undefined;
  }

  #presence(stanza: XmlElement): void {
    const [local = '', rest] = (stanza.attrs.from ?? '').split('@');
    if (!rest) return;
    const slash = rest.indexOf('/');
    const domain = slash === -1 ? rest : rest.slice(0, slash);
    if (domain !== this.#options.mucDomain) return;
    const room = this.#rooms.get(local);
    if (!room) return;
    const nick = slash === -1 ? '' : rest.slice(slash + 1);

    if (stanza.attrs.type === 'error') {
      const condition =
        stanza
          .getChild('error')
          ?.getChildElements()
          .find((e) => e.attrs.xmlns === NS_STANZAS)?.name ?? 'undefined-condition';
      this.#failPending(room, new RoomControlError(condition, `joining ${room.name} was refused: ${condition}`));
      return;
    }

    const x = stanza.getChild('x', NS_MUC_USER);
    const codes = new Set(x?.getChildren('status').map((s) => s.attrs.code) ?? []);
    const item = x?.getChild('item');
    const unavailable = stanza.attrs.type === 'unavailable';
    const destroy = x?.getChild('destroy');

    if (codes.has('110') || (!x && nick === this.#options.nick)) {
      if (!unavailable) {
        room.joined = true;
        if (room.pending) {
          clearTimeout(room.pending.timer);
          room.pending.resolve(codes.has('201'));
          room.pending = undefined;
        }
      } else if (destroy || room.destroyed) {
        this.#roomGone(room, destroy?.getChildText('reason') ?? undefined);
      } else {
        // Removed from the room by someone else: the rooms domain sees it in state() and may create it again.
        room.joined = false;
      }
      return;
    }

    if (unavailable) {
      const occupant = room.occupants.get(nick);
      if (!occupant) return;
      room.occupants.delete(nick);
      this.emit('occupantLeft', { ...occupant, ...whyLeft(stanza) });
      return;
    }

    const occupant: Occupant = {
      room: room.name,
      nick,
      jid: item?.attrs.jid,
      identity: parseIdentity(stanza),
      displayName: stanza.getChildText('nick', NS_NICK) ?? undefined,
      role: item?.attrs.role ?? 'participant',
      affiliation: item?.attrs.affiliation ?? 'none',
    };
    const known = room.occupants.get(nick);
    room.occupants.set(nick, occupant);
    if (known) return;
    // Re-joining after a reconnect: the same person still there is not news.
    const before = room.before?.get(nick);
    if (before && before.jid === occupant.jid && before.identity?.user.id === occupant.identity?.user.id) return;
    if (before) this.emit('occupantLeft', { ...before, reason: 'missing' });
    this.emit('occupantJoined', occupant);
  }

  #roomGone(room: ControlledRoom, reason: string | undefined): void {
    this.#rooms.delete(room.name);
    room.joined = false;
    this.#failPending(room, new RoomControlError('gone', `${room.name} was destroyed`));
    for (const occupant of room.occupants.values())
      this.emit('occupantLeft', { ...occupant, reason: 'destroyed', ...(reason ? { status: reason } : {}) });
    room.occupants.clear();
    this.emit('roomDestroyed', { room: room.name, reason });
  }
}

/**
 * Data that arrives after the stream was closed (while stopping, with presences still flowing)
 * reaches a detached parser and throws inside a socket handler (xmppjs/xmpp.js#860), which would
 * take the whole appliance down. Such data belongs to a stream already given up: drop it.
 */
export function guardAgainstLateData(xmpp: Client): Client {
  // Called below with the client as `this`, exactly as the socket would have called it.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const onData = xmpp._onData;
  xmpp._onData = function (this: Client, data: Buffer) {
    if (this.parser) onData.call(this, data);
  };
  return xmpp;
}

/**
 * Reads Jitsi's `<identity>`; Prosody's mod_presence_identity replaces whatever a client sent, so on Jitsi's
 * Prosody it comes from the token.
 */
export function parseIdentity(presence: XmlElement): Identity | undefined {
  const identity = presence.getChild('identity');
  const user = identity?.getChild('user');
  if (!identity || !user) return undefined;
  const fields: Record<string, string> = {};
  for (const child of user.getChildElements()) fields[child.name] = child.text();
  const group = identity.getChildText('group');
  return group ? { user: fields, group } : { user: fields };
}

/**
 * Why an occupant left, from the room's unavailable presence, and in whose words where there were
 * any: a kick's reason is in the item, a destroyed room's in <destroy>, the rest in the presence's
 * status (Prosody's own where it ended the session, else the client's).
 */
export function whyLeft(stanza: XmlElement): { reason: LeaveReason; status?: string } {
  const x = stanza.getChild('x', NS_MUC_USER);
  const destroy = x?.getChild('destroy');
  const status =
    x?.getChild('item')?.getChildText('reason') ??
    destroy?.getChildText('reason') ??
    stanza.getChildText('status') ??
    undefined;
  const codes = new Set(x?.getChildren('status').map((s) => s.attrs.code) ?? []);
  const reason = destroy ? 'destroyed' : leaveReason(codes, status, !stanza.attrs['xml:lang']);
  return { reason, ...(status ? { status: status.slice(0, 500) } : {}) };
}

/**
 * Why an occupant left, by the room's status codes, then by whether Prosody ended the session.
 *
 * Prosody's words decide first, whatever the presence's xml:lang: where it ends a session over an
 * error, the presence it makes for it (mod_presence's resource-unbind) says "Disconnected: <error>".
 * That is how a Jitsi participant's lost connection ends: Jitsi's Prosody runs mod_smacks
 * (smacks_hibernation_time = 60 in Jitsi's own configuration), which keeps a dropped session
 * waiting for the client to resume it and then ends it "Disconnected: Hibernating too long".
 *
 * Without words, `fromServer`: the presence has no xml:lang. Prosody stamps every stanza a client
 * sends with its stream's xml:lang ("en" where the stream named none: util/xmppstream.lua), and
 * the room passes it on; the presence Prosody makes itself is built in the server, not parsed, and
 * has none (Prosody 0.12 and 13 alike). That tells a session that just closed (a TCP connection
 * dropped, a browser killed, with no stream resumption to wait for) from a hang-up (Jitsi leaves
 * the room with its own presence, a bare one or with its reason as status, before it disconnects).
 * A presence Prosody made without words but that carries xml:lang (one that came through another
 * server's stream, which stamps it) cannot be told from a bare hang-up: it reads as left.
 */
function leaveReason(codes: Set<string | undefined>, status: string | undefined, fromServer: boolean): LeaveReason {
  if (codes.has('307')) return 'kicked';
  if (codes.has('301')) return 'banned';
  if (codes.has('321') || codes.has('322') || codes.has('332')) return 'removed';
  if (codes.has('303')) return 'renamed';
  if (codes.has('333')) return 'error';
  if (status?.startsWith('Disconnected:') || fromServer) return 'disconnected';
  return 'left';
}

function checkRoomName(name: string): string {
  // Jitsi lowercases room names; a room name is a JID localpart, so nothing that would change the address.
  const room = name.toLowerCase();
  if (!/^[^\s@/"&'<>:]+$/.test(room)) throw new Error(`not a room name: ${JSON.stringify(name)}`);
  return room;
}

function asRoomControlError(error: unknown, what: string): RoomControlError {
  if (error instanceof RoomControlError) return error;
  const e = error as { name?: string; condition?: string; text?: string; message?: string };
  if (e?.name === 'TimeoutError') return new RoomControlError('timeout', `${what}: no answer in time`);
  if (e?.condition) return new RoomControlError(e.condition, `${what}: ${e.condition}${e.text ? ` (${e.text})` : ''}`);
  return new RoomControlError('undefined-condition', `${what}: ${e?.message ?? String(error)}`);
}
