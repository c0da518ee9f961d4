// The meetings store on every database the appliance supports (SQLite always, PostgreSQL when
// TEST_DATABASE_URL is set): booking, the calendar's period query, version conflicts, removal
// and the record of changes, through the API as a clinician uses it.
import test from 'ava';
import { everyDatabase } from '../helpers/databases.ts';
import { startServer } from '../helpers/server.ts';
import { booking, inDays, loggedIn } from './_booking.ts';

for (const database of await everyDatabase()) {
  test.serial(`meetings are booked, listed, changed and recorded on ${database.kind}`, async (t) => {
    const app = await startServer({ database });
    try {
      const { client } = await loggedIn(app);
      const db = app.server.app.db;
      const booked = (
        await client.request('POST', '/api/v1/meetings', {
          json: booking({
            participants: [
              {
                kind: 'patient',
                name: 'Sara Lind',
                mobile: '0701234567',
                identification: 'bankid',
                personalNumber: '19121212-1212',
              },
              booking().participants[1],
            ],
          }),
        })
      ).json();
      t.is(booked.participants[0].personalNumberMasked, '19121212-****');

      const later = (
        await client.request('POST', '/api/v1/meetings', { json: booking({ startsAt: inDays(9) }) })
      ).json();
      const from = encodeURIComponent(inDays(1, 0));
      const to = encodeURIComponent(inDays(3, 0));
      const listed = (await client.get(`/api/v1/meetings?from=${from}&to=${to}`)).json().meetings.map((m: any) => m.id);
      t.true(listed.includes(booked.id));
      t.false(listed.includes(later.id));

      const [a, b] = await Promise.all([
        client.request('PATCH', `/api/v1/meetings/${booked.id}`, { json: { version: 1, startsAt: inDays(4) } }),
        client.request('POST', `/api/v1/meetings/${booked.id}/cancel`, { json: { version: 1, reason: 'Sjuk' } }),
      ]);
      t.deepEqual([a.status, b.status].sort(), [200, 409]);

      const current = (await client.get(`/api/v1/meetings/${booked.id}`)).json();
      t.is(current.version, 2);
      const removed = await client.request(
        'DELETE',
        `/api/v1/meetings/${booked.id}/participants/${booked.participants[1].id}?version=2`,
        { headers: { 'x-csrf-token': client.crumb! } },
      );
      t.is(removed.status, current.status === 'cancelled' ? 409 : 200);

      const events = await db('meeting_events').where({ meeting_id: booked.id }).orderBy('id');
      t.is(events[0].type, 'meeting.booked');
      t.true(events.length >= 2);
      const row = await db('participants').where({ id: booked.participants[0].id }).first();
      t.regex(row.personal_number_sealed, /^v1\./);
    } finally {
      await app.stop();
    }
  });
}
