// The small typed event bus through which domain plugins talk (ARCHITECTURE.md, the event bus).
// Each domain declares its events by merging into DomainEvents:
//   declare module '../events.ts' { interface DomainEvents { 'meeting.booked': { meetingId: string } } }
//
// An event may have parts: work another domain does as part of the change that caused the event
// (a connection-log entry, the participant's status), written in the change's own transaction so
// that the change and all it causes commit once (ARCHITECTURE.md, the data path). The emitter
// calls `emitIn(trx, …)` inside its transaction; reactions and followers hear the event once that
// transaction has committed. Many events of one kind written together (the outbox's batch of
// statuses) go with `emitAllIn(trx, …)`, and a part registered with `partOfMany` writes them in
// one statement. An event with parts emitted outside a transaction (`emit`: a presence, the waiting
// room opened) has its parts written through the group commit first.
//
// Two ways to listen, because several appliance processes may share one PostgreSQL:
// - `on`: a reaction (record it, update a status, send a message). It runs once, in the process
//   where the event happened - never once per process.
// - `follow`: a live page (a calendar, a meeting page, a waiting room) that must hear what
//   happened in any process. Followers get the event's ids and statuses only, never the
//   personal data in it: that is what crosses between processes (db/notify.ts, LISTEN/NOTIFY).
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';

export interface DomainEvents {
  'staff.login': { staffId: string; method: 'password' | 'oidc' };
  'staff.logout': { staffId: string };
  /**
   * A staff member's sessions or rights changed (a password changed, the account disabled or
   * enabled, the role or unit changed): their open event streams check their session again.
   */
  'staff.changed': { staffId: string };
}

export type EventName = keyof DomainEvents;
type Listener<K extends EventName> = (payload: DomainEvents[K]) => void | Promise<void>;
/** Work done inside the emitting change's transaction: it commits or rolls back with the change. */
export type Part<K extends EventName> = (trx: Knex.Transaction, payload: DomainEvents[K]) => Promise<void>;
/** A part written once for many events emitted together (`emitAllIn`): a statement for all, not one each. */
export type ManyPart<K extends EventName> = (trx: Knex.Transaction, payloads: DomainEvents[K][]) => Promise<void>;

/** Writes in a shared durable transaction (db/group-commit.ts): the parts of events emitted outside one. */
export interface Committer {
  write<T>(write: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
}

/** What of an event crosses to other processes: ids (`…Id`, `…Ids`) and what kind of change it was. */
type SharedKey = `${string}Id` | `${string}Ids` | 'status' | 'kind' | 'type' | 'action';
export type Shared<T> = { [P in keyof T as P extends SharedKey ? P : never]: T[P] };
type Follower<K extends EventName> = (payload: Shared<DomainEvents[K]>) => void | Promise<void>;

const sharedKey = /(Id|Ids)$|^(status|kind|type|action)$/;

/** The ids-only copy of a payload that followers (here and in other processes) receive. */
export function shared<T extends object>(payload: T): Shared<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (sharedKey.test(key) && value !== undefined) out[key] = value;
  }
  return out as Shared<T>;
}

/** Carries events to and from the other processes (PostgreSQL LISTEN/NOTIFY); absent on SQLite. */
export interface BusTransport {
  publish(name: string, payload: object): void;
}

export class EventBus {
  readonly #reactions = new EventEmitter({ captureRejections: false });
  readonly #followers = new EventEmitter({ captureRejections: false });
  readonly #onError: (event: string, error: unknown) => void;
  #transport: BusTransport | undefined;
  // Every part as the form that takes many payloads: a part of one event is called for each.
  readonly #parts = new Map<string, ManyPart<never>[]>();
  #committer: Committer | undefined;

  constructor(onError: (event: string, error: unknown) => void) {
    this.#onError = onError;
    // Every open waiting room and meeting page listens: many listeners are expected, not a leak.
    this.#reactions.setMaxListeners(0);
    this.#followers.setMaxListeners(0);
  }

  #wrap<P>(name: string, listener: (payload: P) => void | Promise<void>) {
    // A failing listener must not break the request that emitted the event: it is logged instead.
    return (payload: P) => {
      Promise.resolve()
        .then(() => listener(payload))
        .catch((error) => this.#onError(name, error));
    };
  }

  /** A reaction, run once in the process where the event happened; the returned function unsubscribes. */
  on<K extends EventName>(name: K, listener: Listener<K>): () => void {
    const wrapped = this.#wrap(name, listener);
    this.#reactions.on(name, wrapped);
    return () => this.#reactions.off(name, wrapped);
  }

  /** Hears the event from every process, ids only (an open page's stream must unsubscribe when it closes). */
  follow<K extends EventName>(name: K, listener: Follower<K>): () => void {
    const wrapped = this.#wrap(name, listener);
    this.#followers.on(name, wrapped);
    return () => this.#followers.off(name, wrapped);
  }

  /** Work that is part of every change that emits `name` (registered at start, never removed). */
  part<K extends EventName>(name: K, part: Part<K>): void {
    this.partOfMany<K>(name, async (trx, payloads) => {
      for (const payload of payloads) await part(trx, payload);
    });
  }

  /**
   * A part that writes what many events emitted together cause in one go (the connection log's
   * entries of a batch of outbox statuses); an event emitted alone comes as a list of one.
   */
  partOfMany<K extends EventName>(name: K, part: ManyPart<K>): void {
    this.#parts.set(name, [...(this.#parts.get(name) ?? []), part as ManyPart<never>]);
  }

  /**
   * Emits from inside the change's transaction: the event's parts are written in it now (a part
   * that fails fails the change), reactions and followers hear it once the transaction commits.
   */
  emitIn<K extends EventName>(trx: Knex.Transaction, name: K, payload: DomainEvents[K]): Promise<void> {
    return this.emitAllIn(trx, name, [payload]);
  }

  /**
   * Many events of one kind from inside one transaction (a batch of the outbox's statuses): each
   * part runs once for all of them, and each is heard, in order, once the transaction has committed.
   */
  async emitAllIn<K extends EventName>(trx: Knex.Transaction, name: K, payloads: DomainEvents[K][]): Promise<void> {
    if (payloads.length === 0) return;
    for (const part of this.#parts.get(name) ?? []) await (part as ManyPart<K>)(trx, payloads);
    afterCommit(trx, () => {
      for (const payload of payloads) {
        try {
          this.#deliver(name, payload);
        } catch (error) {
          this.#onError(name, error);
        }
      }
    });
  }

  /**
   * Emitted after the change has committed: reactions and followers here, then the other processes.
   * An event with parts has them written first, in a group commit.
   */
  emit<K extends EventName>(name: K, payload: DomainEvents[K]): void {
    if (!this.#parts.has(name)) return this.#deliver(name, payload);
    const committer = this.#committer;
    if (!committer) throw new Error(`the event ${name} has parts to write, but the bus has no database yet`);
    committer.write((trx) => this.emitIn(trx, name, payload)).catch((error) => this.#onError(name, error));
  }

  /** Where the parts of events emitted outside a transaction are written (the db plugin's group commit). */
  commitPartsThrough(committer: Committer | undefined): void {
    this.#committer = committer;
  }

  #deliver<K extends EventName>(name: K, payload: DomainEvents[K]): void {
    this.#reactions.emit(name, payload);
    const ids = shared(payload);
    this.#followers.emit(name, ids);
    this.#transport?.publish(name, ids);
  }

  /** Connects the bus to the other processes (db/notify.ts on PostgreSQL). */
  connect(transport: BusTransport | undefined): void {
    this.#transport = transport;
  }

  /** An event from another process: only followers hear it (its reactions ran where it happened). */
  receive(name: string, payload: object): void {
    this.#followers.emit(name, payload);
  }
}

/**
 * Runs `then` once the transaction has committed (never when it rolls back). A group commit's
 * transaction that is run again after a deadlock is a new transaction: only the one that commits runs it.
 * A savepoint (a change sharing the commit on SQLite, db/group-commit.ts) has committed once it was
 * released and every transaction around it has committed.
 */
export function afterCommit(trx: Knex.Transaction, then: () => void): void {
  let committed: Promise<unknown> = trx.executionPromise;
  for (let outer = trx.parentTransaction; outer; outer = outer.parentTransaction)
    committed = Promise.all([committed, outer.executionPromise]);
  committed.then(then, () => undefined);
}
