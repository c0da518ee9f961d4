// Technical test results: one row per completed test, keyed by whose test it was (a participant,
// or a staff member's login session — the routine tests again after each new login).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('techtest_results', (t) => {
    t.string('id', 36).primary();
    // No foreign key: the subject lives in another domain's table (participants, staff_sessions),
    // and a result must outlive the session it was taken in, for support.
    t.string('subject_type', 16).notNullable();
    t.string('subject_id', 64).notNullable();
    t.string('camera', 12).notNullable();
    t.string('microphone', 12).notNullable();
    t.double('microphone_level');
    t.string('sound', 12).notNullable();
    t.string('camera_label', 200);
    t.string('microphone_label', 200);
    t.string('speaker_label', 200);
    t.boolean('relay_configured').notNullable();
    t.boolean('relay_udp');
    t.boolean('relay_tcp');
    t.double('rtt_ms');
    t.double('jitter_ms');
    t.double('loss');
    t.double('throughput_kbps');
    t.double('download_kbps');
    t.double('upload_kbps');
    t.integer('network_ms');
    t.string('verdict', 8).notNullable();
    t.string('browser', 64).notNullable();
    t.string('os', 64).notNullable();
    t.timestamp('tested_at', { useTz: true }).notNullable();
    t.index(['subject_type', 'subject_id', 'tested_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('techtest_results');
}
