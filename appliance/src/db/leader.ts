// One process at a time leads what must happen once: XMPP room control, reminders, no-show
// alerts, evaluation requests and retention. The leader holds a PostgreSQL advisory lock on a
// connection of its own; when it dies (even by SIGKILL) PostgreSQL ends that session and the lock
// is free, and the next process to try - every `retryMs` - takes over. On SQLite the one process
// leads from its start: one, because it holds the file (hold.ts).
import type { Db } from './knex.ts';
import { isSqlite } from './knex.ts';
import { lockKeys, lockNamespace, ownConnection, type OwnConnection } from './locks.ts';
import { must } from '../common/must.ts';

/** Starts a leader's job; returns how to stop it (when leadership is lost or the server stops). */
export type LeaderJob = () => (() => void | Promise<void>) | Promise<() => void | Promise<void>>;

export interface LeadershipOptions {
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** How often a follower tries to take the lead, and the leader checks its connection. */
  retryMs?: number;
}

export class Leadership {
  readonly #db: Db;
  readonly #log: LeadershipOptions['log'];
  readonly #retryMs: number;
  readonly #jobs: { name: string; start: LeaderJob }[] = [];
  #stops: (() => void | Promise<void>)[] = [];
  #leading = false;
  #started = false;
  #stopped = false;
  #connection: OwnConnection | undefined;
  #timer: NodeJS.Timeout | undefined;
  #changing: Promise<void> = Promise.resolve();

  constructor(db: Db, options: LeadershipOptions) {
    this.#db = db;
    this.#log = options.log;
    this.#retryMs = options.retryMs ?? 2_000;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Registers a job that runs only while this process leads (started at once if it already does). */
  run(name: string, start: LeaderJob): void {
    const job = { name, start };
    this.#jobs.push(job);
    if (this.#leading) this.#changing = this.#changing.then(() => this.#startJob(job));
  }

  async start(): Promise<void> {
    this.#started = true;
    if (isSqlite(this.#db)) {
      await this.#become(true);
      return;
    }
    await this.#attempt();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#become(false);
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.end().catch(() => undefined);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (!this.#connection) {
        const connection = ownConnection(this.#db);
        const lost = () => {
          if (this.#connection !== connection) return;
          this.#connection = undefined;
          if (this.#leading)
            this.#log('warn', "leader: lost the connection that holds the lead; stopping the leader's jobs");
          void this.#become(false);
        };
        connection.on('error', lost);
        connection.on('end', lost);
        await connection.connect();
        this.#connection = connection;
      }
      if (this.#leading) {
        // The lock lives as long as this session: check that it is still there.
        await this.#connection.query('select 1');
      } else {
        const { rows } = await this.#connection.query('select pg_try_advisory_lock($1, $2) as got', [
          lockNamespace,
          lockKeys.leader,
        ]);
        if (must(rows[0], 'pg_try_advisory_lock row').got) {
          this.#log('info', `leader: process ${process.pid} leads room control and the periodic jobs`);
          await this.#become(true);
        }
      }
    } catch (error) {
      this.#log('warn', `leader: ${(error as Error).message}`);
      const connection = this.#connection;
      this.#connection = undefined;
      await connection?.end().catch(() => undefined);
      await this.#become(false);
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.#attempt(), this.#retryMs);
      this.#timer.unref();
    }
  }

  async #become(leading: boolean): Promise<void> {
    const change = this.#changing.then(async () => {
      if (this.#leading === leading) return;
      this.#leading = leading;
      if (leading) {
        for (const job of this.#jobs) await this.#startJob(job);
      } else {
        const stops = this.#stops;
        this.#stops = [];
        for (const stop of stops.reverse()) {
          try {
            await stop();
          } catch (error) {
            this.#log('error', `leader: stopping a job: ${(error as Error).message}`);
          }
        }
      }
    });
    this.#changing = change.catch(() => undefined);
    await change;
  }

  async #startJob(job: { name: string; start: LeaderJob }): Promise<void> {
    if (!this.#leading || !this.#started) return;
    try {
      this.#stops.push(await job.start());
    } catch (error) {
      this.#log('error', `leader: starting ${job.name}: ${(error as Error).message}`);
    }
  }
}
