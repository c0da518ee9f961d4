// Records a passed technical test, for tests about what comes after it (the test itself is driven
// in Chromium in test/browser/techtest.ts and test/browser/guest.ts).
import type { TestServer } from './server.ts';
import { recordResult } from '../../appliance/src/techtest/service.ts';
import type { Subject, TechTestAnswers } from '../../appliance/src/techtest/model.ts';

export const passedAnswers: TechTestAnswers = {
  camera: 'yes',
  microphone: 'detected',
  microphoneLevel: 0.4,
  sound: 'yes',
  devices: { camera: null, microphone: null, speaker: null },
  network: {
    relayConfigured: false,
    relayUdp: null,
    relayTcp: null,
    rttMs: 20,
    jitterMs: 2,
    loss: 0,
    throughputKbps: 2000,
    downloadKbps: 20000,
    uploadKbps: 10000,
    durationMs: 5000,
  },
};

export async function passTechTest(app: TestServer, subject: Subject): Promise<void> {
  await recordResult(
    { db: app.server.app.db, bus: app.server.app.bus },
    subject,
    passedAnswers,
    'Mozilla/5.0 Chrome/126.0',
  );
}

/** Every current login session of a staff member has passed (staff results belong to the session). */
export async function passStaffTechTest(app: TestServer, staffId: string): Promise<void> {
  for (const { id } of await app.server.app.db('staff_sessions').where({ staff_id: staffId }).select('id')) {
    // The session's subject id is the hash of its id, which is what the table keeps.
    await passTechTest(app, { type: 'staff_session', id });
  }
}
