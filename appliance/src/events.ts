// The small typed in-process event bus through which domain plugins talk (DESIGN.md).
// Each domain declares its events by merging into DomainEvents:
//   declare module '../events.ts' { interface DomainEvents { 'meeting.booked': { meetingId: string } } }
import { EventEmitter } from 'node:events';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
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
    this.#emitter.setMaxListeners(100);
  }

  on<K extends EventName>(name: K, listener: Listener<K>): void {
    // A failing listener must not break the request that emitted the event: it is logged instead.
    this.#emitter.on(name, (payload: DomainEvents[K]) => {
      Promise.resolve()
        .then(() => listener(payload))
        .catch((error) => this.#onError(name, error));
    });
  }

  emit<K extends EventName>(name: K, payload: DomainEvents[K]): void {
    this.#emitter.emit(name, payload);
  }
}
