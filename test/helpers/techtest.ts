// Records a passed technical test, for tests about what comes after it (the test itself is driven
// in Chromium in test/browser/techtest.ts and test/browser/guest.ts).
import type { ExecutionContext } from 'ava';
import type { Page } from 'puppeteer-core';
import { press } from './browser.ts';
import type { TestServer } from './server.ts';
import { present } from './present.ts';
import { recordResult } from '../../appliance/src/techtest/service.ts';
import type { Subject, TechTestAnswers, TechTestResult } from '../../appliance/src/techtest/model.ts';

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

/**
 * Walks the real test in the page, with the browser's fake camera and microphone: yes to the
 * picture, the microphone passing by itself, yes to the sound; then waits for the test to finish.
 */
export async function walkTechTestSayingYes(page: Page): Promise<void> {
  const visible = (selector: string) => page.waitForSelector(selector, { visible: true });
  await page.waitForSelector('#techtest[data-ready="true"]');
  await press(page, 'Starta testet');
  await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('#preview')?.videoWidth ?? 0) > 0);
  await press(page, 'Ja');
  // The microphone passes by itself on speech-level sound.
  await page.waitForFunction(
    () => document.querySelector('.progress [data-step="microphone"] .state')?.textContent === 'Fungerar',
  );
  await visible('#step-sound');
  await press(page, 'Spela upp ljudet');
  await visible('#sound-question');
  await press(page, 'Ja');
  await page.waitForSelector('#techtest[data-done]', { timeout: 30_000 });
}

/**
 * What the real test stores once passed in Chromium with the fake camera and microphone, through
 * coturn: yes to picture and sound, a microphone heard, the relay reached both ways, every figure
 * of the connection measured. Returns the result for what a test checks beyond that.
 */
export function storedAsPassed(t: ExecutionContext, stored: TechTestResult | undefined): TechTestResult {
  const result = present(stored, 'a stored tech test result');
  t.like(result, { camera: 'yes', microphone: 'detected', sound: 'yes' });
  t.like(result.network, { relayConfigured: true, relayUdp: true, relayTcp: true });
  for (const figure of [
    'rttMs',
    'jitterMs',
    'loss',
    'throughputKbps',
    'downloadKbps',
    'uploadKbps',
    'durationMs',
  ] as const) {
    t.is(typeof result.network[figure], 'number', figure);
  }
  t.true(present(result.microphoneLevel, 'the microphone level') > 0);
  return result;
}

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
