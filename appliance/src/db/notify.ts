// The bus between appliance processes on one PostgreSQL (events.ts). An emitted event, reduced to
// its ids, is recorded in bus_events and announced with NOTIFY in the same statement - after the
// change that caused it has committed, since the bus emits only then. Events emitted together are
// sent together (one statement, one commit per batch, each NOTIFY well inside its 8000-byte
// limit). Every process LISTENs on a connection of its own; one that loses it reconnects and
// catches up from bus_events, so no live page misses a change while the link was down.
import { randomBytes } from 'node:crypto';
import type { BusTransport, DomainEvents, EventBus, EventName, Shared } from '../events.ts';
import { ownConnection, type OwnConnection } from './locks.ts';
import { rawRows, type Db } from './knex.ts';

const channel = 'samverka_bus';
/** NOTIFY refuses payloads of 8000 bytes or more; a batch stays well under. */
const maxBatchBytes = 6000;
/** How long events are kept for catching up, and the slack for clocks and late commits. */
const keepMinutes = 10;
const catchUpSlackMs = 30_000;

interface Announced {
  i: string;
  o: string;
  n: string;
  p: object;
}

export interface BusLinkOptions {
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The first reconnect delay, doubled up to maxMs. */
  reconnect?: { initialMs: number; maxMs: number };
}

/** Records the events in bus_events and announces them with NOTIFY, in one statement. */
async function publishBatch(db: Db, origin: string, batch: { name: string; payload: object }[]): Promise<void> {
  await db.raw(
    `with e as (
       insert into bus_events (origin, name, payload)
       select ?, x.name, x.payload from json_to_recordset(?::json) as x(name text, payload jsonb)
       returning id, origin, name, payload)
     select pg_notify(?, json_agg(json_build_object('i', id::text, 'o', origin, 'n', name, 'p', payload) order by id)::text) from e`,
    [origin, JSON.stringify(batch), channel],
  );
}

/**
 * Tells the appliance processes on this PostgreSQL of a change made by a process without a bus of
 * its own (the command line): their followers hear it as one from another process. The payload is
 * what crosses processes, ids only (events.ts, `shared`).
 */
export async function announce<K extends EventName>(db: Db, name: K, payload: Shared<DomainEvents[K]>): Promise<void> {
  await publishBatch(db, randomBytes(8).toString('hex'), [{ name, payload }]);
}

export class PgBusLink implements BusTransport {
  /** This process, so that it does not hear its own events twice. */
  readonly origin = randomBytes(8).toString('hex');
  readonly #db: Db;
  readonly #bus: EventBus;
  readonly #options: Required<BusLinkOptions>;
  #queue: { name: string; payload: object }[] = [];
  #flushing: Promise<void> | undefined;
  #client: OwnConnection | undefined;
  #listening = false;
  #stopped = false;
  #started = false;
  /** Ids already delivered (live notification or catch-up), oldest first. */
  readonly #seen = new Set<string>();
  #lostAt: number | undefined;
  #delay: number;
  #timers = new Set<NodeJS.Timeout>();
  #reconnects = 0;

  constructor(db: Db, bus: EventBus, options: BusLinkOptions) {
    this.#db = db;
    this.#bus = bus;
    this.#options = { reconnect: { initialMs: 200, maxMs: 5_000 }, ...options };
    this.#delay = this.#options.reconnect.initialMs;
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Started and not listening: the other processes' events are not reaching this one's pages. */
  get lost(): boolean {
    return this.#started && !this.#stopped && !this.#listening;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  async start(): Promise<void> {
    this.#started = true;
    await this.#listen();
    const prune = setInterval(() => {
      this.#db
        .raw(`delete from bus_events where at < now() - interval '${keepMinutes} minutes'`)
        .catch((error) => this.#options.log('warn', `bus: pruning: ${(error as Error).message}`));
    }, 60_000);
    prune.unref();
    this.#timers.add(prune);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await this.#flush();
    const client = this.#client;
    this.#client = undefined;
    this.#listening = false;
    await client?.end().catch(() => undefined);
  }

  publish(name: string, payload: object): void {
    if (this.#stopped) return;
    this.#queue.push({ name, payload });
    // Everything emitted in this turn of the event loop goes in one statement.
    if (this.#queue.length === 1) setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#queue.length === 0) return;
    const queue = this.#queue;
    this.#queue = [];
    this.#flushing = (async () => {
      for (const batch of batches(queue)) {
        try {
          await publishBatch(this.#db, this.origin, batch);
        } catch (error) {
          // The change itself is committed; only other processes' live pages miss this event
          // until they refresh. Logged, never thrown at the request that emitted it.
          this.#options.log('error', `bus: publishing ${batch.length} event(s): ${(error as Error).message}`);
        }
      }
    })();
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
  }

  #deliver(events: Announced[]): void {
    for (const event of events) {
      if (this.#seen.has(event.i)) continue;
      this.#seen.add(event.i);
      if (event.o !== this.origin) this.#bus.receive(event.n, event.p);
    }
    // Remembering the last few thousand is enough: catch-up reaches back minutes, not hours.
    if (this.#seen.size > 20_000) {
      let drop = this.#seen.size - 10_000;
      for (const id of this.#seen) {
        if (drop-- <= 0) break;
        this.#seen.delete(id);
      }
    }
  }

  async #listen(): Promise<void> {
    const client = ownConnection(this.#db);
    client.on('notification', (n) => {
      if (n.channel !== channel || !n.payload) return;
      try {
        this.#deliver(JSON.parse(n.payload) as Announced[]);
      } catch (error) {
        this.#options.log('warn', `bus: unreadable notification: ${(error as Error).message}`);
      }
    });
    const lost = (error?: Error) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#listening = false;
      this.#lostAt ??= Date.now();
      if (this.#stopped) return;
      this.#options.log('warn', `bus: listening connection lost${error ? ` (${error.message})` : ''}; reconnecting`);
      this.#retry();
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    this.#client = client;
    await client.query(`listen ${channel}`);
    this.#listening = true;
    this.#delay = this.#options.reconnect.initialMs;
    if (this.#lostAt !== undefined) {
      // Listening again: whatever was announced meanwhile is read back from bus_events.
      const since = new Date(this.#lostAt - catchUpSlackMs);
      this.#lostAt = undefined;
      const rows = await rawRows<Announced>(
        this.#db,
        'select id::text as i, origin as o, name as n, payload as p from bus_events where at > ? order by id',
        [since.toISOString()],
      );
      this.#deliver(rows);
      this.#reconnects += 1;
      this.#options.log('info', `bus: listening again; caught up ${rows.length} event(s)`);
    }
  }

  #retry(): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#stopped) return;
      this.#listen().catch((error) => {
        this.#options.log('warn', `bus: reconnecting: ${(error as Error).message}`);
        this.#client = undefined;
        this.#lostAt ??= Date.now();
        this.#delay = Math.min(this.#delay * 2, this.#options.reconnect.maxMs);
        this.#retry();
      });
    }, this.#delay);
    timer.unref();
    this.#timers.add(timer);
  }
}

/** Splits the queue into batches whose NOTIFY payload stays under the limit. */
function batches(queue: { name: string; payload: object }[]): { name: string; payload: object }[][] {
  const out: { name: string; payload: object }[][] = [];
  let current: { name: string; payload: object }[] = [];
  let bytes = 0;
  for (const event of queue) {
    // Each event is announced with its id and origin (~60 bytes) beside its name and ids.
    const size = Buffer.byteLength(JSON.stringify(event)) + 80;
    if (current.length > 0 && bytes + size > maxBatchBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
