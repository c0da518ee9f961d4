// The rooms plugin: each meeting's Jitsi room, controlled over XMPP when XMPP_* is configured;
// the meeting page (guests and staff) with Jitsi's IFrame API and tokens; presence; the
// five-minute rule; end for everyone.
import { once } from 'node:events';
import type { Plugin } from '@hapi/hapi';
import { roomName } from './jitsi.ts';
import { recordRoutes } from './record-routes.ts';
import { roomRoutes } from './routes.ts';
import { RoomService, toTheRoom } from './service.ts';
import { insertRoom } from './store.ts';
import { roomFacts, roomMarks } from './facts.ts';
import type { RoomControl } from './xmpp.ts';
import { addCalendarMarks, addParticipantFacts, advanceStatus, onMeetingChange } from '../meetings/index.ts';

export { jitsiWebState } from './jitsi.ts';

declare module '@hapi/hapi' {
  interface PluginProperties {
    rooms: { service: RoomService; control: RoomControl | undefined };
  }
}

export const plugin: Plugin<void> = {
  name: 'rooms',
  dependencies: ['db', 'audit', 'staff', 'meetings', 'techtest', 'entry', 'invites'],
  async register(server) {
    const { db, bus, config } = server.app;
    const log = (level: 'info' | 'warn' | 'error', message: string) => server.log([level, 'rooms'], message);
    // @xmpp/client is loaded only when room control is configured.
    const xmpp = config.xmpp ? await import('./xmpp.ts') : undefined;
    const controlsRooms = Boolean(xmpp);
    const service = new RoomService(
      db,
      bus,
      {
        opensMinutes: config.roomOpensMinutes,
        graceMinutes: config.roomGraceMinutes,
        noShowMinutes: config.noShowMinutes,
        jitsi: config.jitsi,
        // Jitsi's main domain is the MUC domain without its first label (muc.meet.jitsi → meet.jitsi).
        jitsiDomain:
          config.xmpp?.mucDomain.replace(/^[^.]+\./, '') ??
          (config.jitsi ? new URL(config.jitsi.url).hostname : undefined),
        controlsRooms,
      },
      undefined,
      log,
      (meetingId, status, byStaffId, now, within) => advanceStatus(server, meetingId, status, byStaffId, now, within),
    );
    // The XMPP session exists in the process that leads room control, one leadership at a time.
    let control: RoomControl | undefined;

    // Every meeting gets its room name when it is booked, in the same transaction.
    onMeetingChange(server, async (trx, change) => {
      if (change.type === 'meeting.booked') await insertRoom(trx, change.payload.meetingId, roomName());
    });
    // The process where a meeting was cancelled records its room's end; whichever process ended or
    // cancelled it, the leader (which holds the XMPP session) takes the room out of Prosody.
    bus.on('meeting.cancelled', ({ meetingId }) => service.cancelled(meetingId));
    bus.follow('meeting.cancelled', ({ meetingId }) =>
      control ? service.release(meetingId, toTheRoom('rooms.toRoom.cancelled')) : undefined,
    );
    bus.follow('room.ended', ({ meetingId }) => (control ? service.release(meetingId) : undefined));
    // A participant taken off the meeting leaves its room too (their guest pages already refuse them).
    bus.follow('participant.removed', ({ meetingId, participantId, byStaffId }) =>
      control ? service.removed(meetingId, participantId, byStaffId) : undefined,
    );
    bus.follow('room.kick_requested', ({ meetingId, presenceId, byStaffId }) =>
      control ? service.kickRequested(meetingId, presenceId, byStaffId) : undefined,
    );
    addParticipantFacts(server, roomFacts(db));
    addCalendarMarks(server, roomMarks(db));

    server.app.health.add('xmpp', async () => {
      if (!xmpp) return { ok: true, detail: 'off (XMPP_* not set): rooms are not controlled' };
      if (!control) return { ok: true, detail: 'another appliance process leads room control' };
      const state = control.state();
      return state.connected
        ? { ok: true, detail: `connected${state.secure ? ' over TLS' : ''}; ${state.roomsOpen} room(s) open` }
        : { ok: false, detail: `not connected to Prosody (${state.status})` };
    });

    // Room control, the rooms' schedule and the five-minute rule run in the leading process only.
    server.app.leader.run('rooms', () => {
      // What the leadership started that may still be writing when it stops.
      let resumed: Promise<void> = Promise.resolve();
      let stopResume = () => {};
      if (xmpp && config.xmpp) {
        control = new xmpp.RoomControl(config.xmpp);
        const current = control;
        current.on('problem', (error) => log('warn', `xmpp: ${error.message}`));
        current.on('disconnected', () => log('warn', 'xmpp: connection to Prosody lost; reconnecting'));
        current.on('resynced', ({ rooms, failed }) =>
          log(
            'info',
            `xmpp: reconnected; ${rooms.length} room(s) re-joined${failed.length ? `, ${failed.length} failed` : ''}`,
          ),
        );
        service.useControl(current);
        // Not awaited: the appliance serves its pages while Prosody is away; the adapter reconnects.
        // The schedule's first round is the resume's, once the session is up. Prosody away at the
        // start (a reboot that started the appliance first) is a fault, logged: the round runs
        // without rooms (the five-minute rule must not wait for Prosody), and the first session the
        // adapter gets later is the start's, and resumes what the start would have (the rooms still
        // open joined again, those ended meanwhile destroyed, a round of the schedule).
        const stopping = new AbortController();
        resumed = current
          .start()
          .catch(async (error: Error) => {
            log('error', `xmpp: ${error.message}; room control starts once Prosody answers`);
            service.round();
            await once(current, 'connected', { signal: stopping.signal });
          })
          .then(() => service.resume())
          .catch((error: Error) => {
            if (stopping.signal.aborted) return;
            log('error', `xmpp: ${error.message}`);
            service.round();
          });
        stopResume = () => stopping.abort();
      } else {
        resumed = service.nothingLeftToTakeOut().catch((error: Error) => log('error', `rooms: ${error.message}`));
      }
      service.start(undefined, { afterSession: Boolean(control) });
      return async () => {
        // No new tick, then no new presence: the session closes (a tick or resume still asking
        // Prosody gets its answer at once, as an error). What they and the presences received
        // before the close write is awaited, so that it is recorded before the database closes
        // (it closes once the leader's jobs have stopped).
        const ticking = service.stop();
        stopResume();
        const current = control;
        control = undefined;
        await current?.close();
        await Promise.all([ticking, resumed]);
        service.useControl(undefined);
        await service.settled();
      };
    });

    server.expose('service', service);
    Object.defineProperty(server.plugins.rooms, 'control', { get: () => control, enumerable: true });
    server.route(roomRoutes(service, config.jitsi?.url));
    server.route(recordRoutes(controlsRooms));
  },
};
