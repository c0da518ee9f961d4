// Care units, staff accounts, their sessions and API tokens, and the audit log (Patientdatalagen).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('care_units', (t) => {
    t.string('id', 36).primary();
    t.string('name', 200).notNullable().unique();
    t.string('phone', 32);
    t.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('staff', (t) => {
    t.string('id', 36).primary();
    t.string('email', 254).notNullable().unique();
    t.string('name', 200).notNullable();
    t.string('hsa_id', 64).unique();
    t.string('role', 16).notNullable();
    t.string('unit_id', 36).notNullable().references('id').inTable('care_units');
    t.string('password_hash', 255);
    t.boolean('password_must_change').notNullable().defaultTo(false); // generated passwords are one-time
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.timestamp('locked_until', { useTz: true });
    t.timestamp('last_login_at', { useTz: true });
    t.timestamp('disabled_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
  });

  // Server-side sessions, so that logout and disabling an account take effect at once.
  await knex.schema.createTable('staff_sessions', (t) => {
    t.string('id', 64).primary(); // sha256 of the session id carried in the encrypted cookie
    t.string('staff_id', 36).notNullable().references('id').inTable('staff').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.string('method', 16).notNullable(); // 'password' now; 'oidc' when the IdP login lands
    t.index(['staff_id']);
  });

  await knex.schema.createTable('api_tokens', (t) => {
    t.string('id', 36).primary();
    t.string('staff_id', 36).notNullable().references('id').inTable('staff').onDelete('CASCADE');
    t.string('name', 100).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.index(['staff_id']); // names are unique among a person's active tokens: checked in the service
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable();
    t.string('staff_id', 36); // null for anonymous actions such as a failed login
    t.string('staff_role', 16);
    t.string('unit_id', 36);
    t.string('action', 64).notNullable();
    t.string('target_type', 32);
    t.string('target_id', 64);
    t.string('meeting_id', 36);
    t.string('participant_id', 36);
    t.string('ip', 64);
    t.text('details');
    t.index(['at']);
    t.index(['staff_id', 'at']);
    t.index(['meeting_id']);
    t.index(['participant_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_log', 'api_tokens', 'staff_sessions', 'staff', 'care_units']) {
    await knex.schema.dropTableIfExists(table);
  }
}
