// The small typed in-process event bus through which domain plugins talk (ARCHITECTURE.md, the event bus).
// Each domain declares its events by merging into DomainEvents:
//   declare module '../events.ts' { interface DomainEvents { 'meeting.booked': { meetingId: string } } }
import { EventEmitter } from 'node:events';

export interface DomainEvents {
  'staff.login': { staffId: string; method: 'password' | 'oidc' };
  'staff.logout': { staffId: string };
}

export type EventName = keyof DomainEvents;
type Listener<K extends EventName> = (payload: DomainEvents[K]) => void | Promise<void>;

export class EventBus {
  readonly #emitter = new EventEmitter({ captureRejections: false });
  readonly #onError: (event: string, error: unknown) => void;

  constructor(onError: (event: string, error: unknown) => void) {
    this.#onError = onError;
    // Every open waiting room and meeting page listens: many listeners are expected, not a leak.
    this.#emitter.setMaxListeners(0);
  }

  /** Subscribes; the returned function unsubscribes (an open page's stream must, when it closes). */
  on<K extends EventName>(name: K, listener: Listener<K>): () => void {
    // A failing listener must not break the request that emitted the event: it is logged instead.
    const wrapped = (payload: DomainEvents[K]) => {
      Promise.resolve()
        .then(() => listener(payload))
        .catch((error) => this.#onError(name, error));
    };
    this.#emitter.on(name, wrapped);
    return () => this.#emitter.off(name, wrapped);
  }

  emit<K extends EventName>(name: K, payload: DomainEvents[K]): void {
    this.#emitter.emit(name, payload);
  }
}
