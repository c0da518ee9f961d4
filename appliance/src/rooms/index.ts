// The rooms plugin: each meeting's Jitsi room, controlled over XMPP when XMPP_* is configured;
// the meeting page (guests and staff) with Jitsi's IFrame API and tokens; presence; the
// five-minute rule; end for everyone.
import type { Plugin } from '@hapi/hapi';
import { roomName } from './jitsi.ts';
import { roomRoutes } from './routes.ts';
import { RoomService } from './service.ts';
import { insertRoom } from './store.ts';
import { roomFacts, roomMarks } from './facts.ts';
import type { RoomControl } from './xmpp.ts';
import { addCalendarMarks, addParticipantFacts, advanceStatus, onMeetingChange } from '../meetings/index.ts';

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
    const control = config.xmpp ? new (await import('./xmpp.ts')).RoomControl(config.xmpp) : undefined;
    const service = new RoomService(
      db,
      bus,
      {
        opensMinutes: config.roomOpensMinutes,
        graceMinutes: config.roomGraceMinutes,
        noShowMinutes: config.noShowMinutes,
        jitsi: config.jitsi,
        // Jitsi's main domain is the MUC domain without its first label (muc.meet.jitsi → meet.jitsi).
        jitsiDomain: config.xmpp?.mucDomain.replace(/^[^.]+\./, '') ?? (config.jitsi ? new URL(config.jitsi.url).hostname : undefined),
      },
      control,
      log,
      (meetingId, status, byStaffId, now) => advanceStatus(server, meetingId, status, byStaffId, now),
    );

    // Every meeting gets its room name when it is booked, in the same transaction.
    onMeetingChange(server, async (trx, change) => {
      if (change.type === 'meeting.booked') await insertRoom(trx, change.payload.meetingId, roomName());
    });
    bus.on('meeting.cancelled', ({ meetingId }) => service.cancelled(meetingId));
    addParticipantFacts(server, roomFacts(db));
    addCalendarMarks(server, roomMarks(db));

    if (control) {
      control.on('problem', (error) => log('warn', `xmpp: ${error.message}`));
      control.on('disconnected', () => log('warn', 'xmpp: connection to Prosody lost; reconnecting'));
      control.on('resynced', ({ rooms, failed }) => log('info', `xmpp: reconnected; ${rooms.length} room(s) re-joined${failed.length ? `, ${failed.length} failed` : ''}`));
    }
    server.app.health.add('xmpp', async () => {
      if (!control) return { ok: true, detail: 'off (XMPP_* not set): rooms are not controlled' };
      const state = control.state();
      return state.connected
        ? { ok: true, detail: `connected${state.secure ? ' over TLS' : ''}; ${state.roomsOpen} room(s) open` }
        : { ok: false, detail: `not connected to Prosody (${state.status})` };
    });

    server.ext('onPostStart', async () => {
      if (control) {
        // Not awaited: the appliance serves its pages while Prosody is away; the adapter reconnects.
        control
          .start()
          .then(() => service.resume())
          .catch((error) => log('error', `xmpp: ${(error as Error).message}`));
      }
      service.start();
    });
    server.ext('onPreStop', async () => {
      service.stop();
      await control?.close();
    });

    server.expose('service', service);
    server.expose('control', control);
    server.route(roomRoutes(service, config.jitsi?.url));
  },
};
