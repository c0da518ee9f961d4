// The only place that knows the techtest_results table.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import { iso, toBool, toDate, type DbBoolean, type DbTimestamp } from '../db/values.ts';
import type {
  CameraAnswer,
  MicrophoneAnswer,
  SoundAnswer,
  Subject,
  SubjectType,
  TechTestResult,
  Verdict,
} from './model.ts';

const table = 'techtest_results';

/** A row of techtest_results (migration 0003), as either driver returns it (db/values.ts). */
interface ResultRow {
  id: string;
  subject_type: SubjectType;
  subject_id: string;
  camera: CameraAnswer;
  microphone: MicrophoneAnswer;
  microphone_level: number | null;
  sound: SoundAnswer;
  camera_label: string | null;
  microphone_label: string | null;
  speaker_label: string | null;
  relay_configured: DbBoolean;
  relay_udp: DbBoolean | null;
  relay_tcp: DbBoolean | null;
  rtt_ms: number | null;
  jitter_ms: number | null;
  loss: number | null;
  throughput_kbps: number | null;
  download_kbps: number | null;
  upload_kbps: number | null;
  network_ms: number | null;
  verdict: Verdict;
  browser: string;
  os: string;
  tested_at: DbTimestamp;
}

const results = (db: Db) => db<ResultRow>(table);

const num = (value: number | null): number | null => (value === null ? null : Number(value));
const bool = (value: DbBoolean | null): boolean | null => (value === null ? null : toBool(value));

function toResult(row: ResultRow): TechTestResult {
  return {
    id: row.id,
    subject: { type: row.subject_type, id: row.subject_id },
    camera: row.camera,
    microphone: row.microphone,
    microphoneLevel: num(row.microphone_level),
    sound: row.sound,
    devices: {
      camera: row.camera_label ?? null,
      microphone: row.microphone_label ?? null,
      speaker: row.speaker_label ?? null,
    },
    network: {
      relayConfigured: toBool(row.relay_configured),
      relayUdp: bool(row.relay_udp),
      relayTcp: bool(row.relay_tcp),
      rttMs: num(row.rtt_ms),
      jitterMs: num(row.jitter_ms),
      loss: num(row.loss),
      throughputKbps: num(row.throughput_kbps),
      downloadKbps: num(row.download_kbps),
      uploadKbps: num(row.upload_kbps),
      durationMs: num(row.network_ms),
    },
    verdict: row.verdict,
    browser: row.browser,
    os: row.os,
    testedAt: toDate(row.tested_at),
  };
}

export async function insertResult(db: Db, result: Omit<TechTestResult, 'id'>): Promise<TechTestResult> {
  const id = randomUUID();
  const { network: n, devices: d } = result;
  await results(db).insert({
    id,
    subject_type: result.subject.type,
    subject_id: result.subject.id,
    camera: result.camera,
    microphone: result.microphone,
    microphone_level: result.microphoneLevel,
    sound: result.sound,
    camera_label: d.camera,
    microphone_label: d.microphone,
    speaker_label: d.speaker,
    relay_configured: n.relayConfigured,
    relay_udp: n.relayUdp,
    relay_tcp: n.relayTcp,
    rtt_ms: n.rttMs,
    jitter_ms: n.jitterMs,
    loss: n.loss,
    throughput_kbps: n.throughputKbps,
    download_kbps: n.downloadKbps,
    upload_kbps: n.uploadKbps,
    network_ms: n.durationMs === null ? null : Math.round(n.durationMs),
    verdict: result.verdict,
    browser: result.browser,
    os: result.os,
    tested_at: iso(result.testedAt),
  });
  return { ...result, id };
}

/** The most recent result for a participant or staff session; staff pages show it. */
export async function latestResult(db: Db, subject: Subject): Promise<TechTestResult | undefined> {
  const row = await results(db)
    .where({ subject_type: subject.type, subject_id: subject.id })
    .orderBy([
      { column: 'tested_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .first();
  return row ? toResult(row) : undefined;
}

/** Every result for a participant or staff session, oldest first: a privacy export holds them all. */
export async function resultsOf(db: Db, subject: Subject): Promise<TechTestResult[]> {
  const rows = await results(db)
    .where({ subject_type: subject.type, subject_id: subject.id })
    .orderBy([
      { column: 'tested_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  return rows.map(toResult);
}

export async function countResults(db: Db, subject: Subject): Promise<number> {
  const [{ n } = { n: 0 }] = await results(db)
    .where({ subject_type: subject.type, subject_id: subject.id })
    .count({ n: '*' });
  return Number(n);
}

/**
 * Retention: results taken before `before` (support's, like the connection log, whose entries of
 * the same tests go then). Returns how many went.
 */
export async function deleteResultsBefore(db: Db, before: Date): Promise<number> {
  return results(db).where('tested_at', '<', iso(before)).delete();
}

/**
 * A privacy erasure: the person's tests keep their answers, figures, verdict and time, without the
 * browser, system and device names that told their own computer or phone. Returns how many.
 */
export async function eraseResultDevices(db: Db, subject: Subject): Promise<number> {
  return results(db)
    .where({ subject_type: subject.type, subject_id: subject.id })
    .update({ browser: '', os: '', camera_label: null, microphone_label: null, speaker_label: null });
}
