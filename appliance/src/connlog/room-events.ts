// The rooms plugin (XMPP presence, no-show, ending) declares and emits these events; until its
// declarations are merged into DomainEvents, this is how connlog and evaluation listen to them.
// The payloads are the contract agreed with the rooms plugin.
import type { EventBus } from '../events.ts';

export interface RoomEvents {
  'room.opened': { meetingId: string };
  'room.presence': { meetingId: string; participantId: string | null; staffId?: string | null; nick: string; kind: 'joined' | 'left'; at: string };
  'room.kicked': { meetingId: string; participantId: string | null; nick: string; byStaffId: string };
  'room.ended': { meetingId: string; reason: string; byStaffId: string | null };
  'noshow.alert': { meetingId: string; participantId: string; phone: string | null };
  'noshow.action': { meetingId: string; participantId: string; action: 'called' | 'sms_sent' | 'dismissed'; byStaffId: string };
}

export function onRoomEvent<K extends keyof RoomEvents>(bus: EventBus, name: K, listener: (payload: RoomEvents[K]) => void | Promise<void>): () => void {
  const on = bus.on.bind(bus) as unknown as (name: string, listener: (payload: RoomEvents[K]) => void | Promise<void>) => () => void;
  return on(name, listener);
}
