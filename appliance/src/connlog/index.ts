// The connlog plugin: one timeline per meeting and participant for support, gathered from the
// other domains' events and the meeting page's client events; and the retention schedule.
import type { Plugin } from '@hapi/hapi';
import { onMeetingChange } from '../meetings/index.ts';
import { clientEventRoute } from './client-events.ts';
import { Recorder } from './recorder.ts';
import { routes } from './routes.ts';

export const plugin: Plugin<void> = {
  name: 'connlog',
  dependencies: ['db', 'audit', 'staff', 'meetings', 'invites', 'techtest', 'entry'],
  register(server) {
    const { db, bus } = server.app;
    const recorder = new Recorder(db, server.app.groupCommit);
    // Registered after the invitations' hook (invites registers first), so the change's messages are there.
    onMeetingChange(server, (trx, change) => recorder.changed(trx, change));
    recorder.subscribe(bus);
    server.route(clientEventRoute(recorder));
    server.route(routes());
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).
/** Retention: deletes the connection log entries of meetings past the period; returns how many. */
export { deleteEntriesOf as purgeEntries } from './store.ts';
/** Retention: the meetings that still have entries older than a moment (the only ones it may have to empty). */
export { meetingsLoggedBefore } from './store.ts';
/** A privacy export: the entries about one participant of a meeting, oldest first. */
export { timeline as entriesAbout } from './store.ts';
/** A privacy erasure: one person's entries without their address, browser and device names. */
export { eraseDeviceDetails } from './store.ts';
