// The only place that knows the techtest_results table.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import { iso, toBool, toDate } from '../db/values.ts';
import type { Subject, TechTestResult } from './model.ts';
import { textOf } from '../common/text.ts';

const table = 'techtest_results';

type Row = Record<string, unknown>;

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const bool = (value: unknown): boolean | null => (value === null || value === undefined ? null : toBool(value));
const text = (value: unknown): string | null => (value === null || value === undefined ? null : textOf(value));

function toResult(row: Row): TechTestResult {
  return {
    id: String(row.id),
    subject: { type: row.subject_type as Subject['type'], id: String(row.subject_id) },
    camera: row.camera as TechTestResult['camera'],
    microphone: row.microphone as TechTestResult['microphone'],
    microphoneLevel: num(row.microphone_level),
    sound: row.sound as TechTestResult['sound'],
    devices: {
      camera: text(row.camera_label),
      microphone: text(row.microphone_label),
      speaker: text(row.speaker_label),
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
    verdict: row.verdict as TechTestResult['verdict'],
    browser: String(row.browser),
    os: String(row.os),
    testedAt: toDate(row.tested_at),
  };
}

export async function insertResult(db: Db, result: Omit<TechTestResult, 'id'>): Promise<TechTestResult> {
  const id = randomUUID();
  const { network: n, devices: d } = result;
  await db(table).insert({
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
  const row = await db(table)
    .where({ subject_type: subject.type, subject_id: subject.id })
    .orderBy([
      { column: 'tested_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .first();
  return row ? toResult(row) : undefined;
}

export async function countResults(db: Db, subject: Subject): Promise<number> {
  const [{ n } = { n: 0 }] = await db(table)
    .where({ subject_type: subject.type, subject_id: subject.id })
    .count({ n: '*' });
  return Number(n);
}
