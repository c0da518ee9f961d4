// The techtest_results table on every database the appliance supports.
import test from 'ava';
import { createDb } from '../../appliance/src/db/knex.ts';
import { insertResult, latestResult } from '../../appliance/src/techtest/store.ts';
import type { TechTestResult } from '../../appliance/src/techtest/model.ts';
import { noFigures } from '../../admin/client/techtest/network.ts';
import { everyDatabase } from '../helpers/databases.ts';

const result = (at: string, verdict: TechTestResult['verdict']): Omit<TechTestResult, 'id'> => ({
  subject: { type: 'participant', id: 'c0ffee00-0000-4000-8000-000000000001' },
  camera: 'no',
  microphone: 'silent',
  microphoneLevel: null,
  sound: 'yes',
  devices: { camera: 'USB-kamera', microphone: null, speaker: 'Hörlurar' },
  // Without TURN the browser measures the line to the appliance and nothing else.
  network: { ...noFigures(), downloadKbps: 1500.5, uploadKbps: 640.25, durationMs: 1234 },
  verdict,
  browser: 'Firefox 128',
  os: 'Linux',
  testedAt: new Date(at),
});

for (const database of await everyDatabase()) {
  test.serial(`results are stored, read back alike and rolled back on ${database.kind}`, async (t) => {
    const db = createDb(database.url);
    try {
      const [, applied] = await db.migrate.latest();
      t.true(applied.includes('0003_techtest'));
      const older = await insertResult(db, result('2026-11-25T09:00:00Z', 'poor'));
      const newer = await insertResult(db, result('2026-11-25T09:05:00Z', 'good'));
      const latest = await latestResult(db, older.subject);
      t.deepEqual(latest, newer);
      t.is(
        await latestResult(db, { type: 'staff_session', id: older.subject.id }),
        undefined,
        'subjects of another kind are apart',
      );
      await db.migrate.rollback(undefined, true);
      t.false(await db.schema.hasTable('techtest_results'));
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
}
