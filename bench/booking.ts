// Meetings: booking a meeting with four participants (one transaction: meeting, participants,
// recorded event and whatever the onChange hooks add), and a care unit's week with 1,000
// meetings in the database, as the calendar page and as the API list. Each beside the empty
// route measured in the same run.
import { createToken } from '../appliance/src/staff/service.ts';
import { insertMeeting, insertParticipants } from '../appliance/src/meetings/store.ts';
import { addDays, fromClinicTime, mondayOf, today } from '../appliance/src/common/clock.ts';
import { booking, inDays } from '../test/meetings/_booking.ts';
import { benchServer, connections, isMain, measure, seconds, table, type HttpCase } from './harness.ts';

const weekMeetings = 1000;

export async function run(): Promise<void> {
  const app = await benchServer();
  try {
    const { db, config } = app.server.app;
    const { staff, password } = await app.staff('clinician');
    const { token } = await createToken(db, staff.email, 'bench');

    // 1,000 meetings spread over next week's working hours, each with a patient and two guests.
    const monday = mondayOf(addDays(today(), 7));
    const template = booking().participants;
    await db.transaction(async (trx) => {
      for (let i = 0; i < weekMeetings; i += 1) {
        const startsAt = new Date(fromClinicTime(addDays(monday, i % 5), '08:00').getTime() + (i % 40) * 12 * 60000);
        const id = await insertMeeting(trx, { unitId: staff.unitId, title: `Möte ${i}`, startsAt, durationMinutes: 30, bookedBy: staff.id, ledBy: staff.id, documentationPlan: 'Journal', testMeeting: false });
        await insertParticipants(trx, id, [
          { kind: 'patient', identification: 'sms', name: `Patient ${i}`, country: 'SE', mobile: '+46701234567', email: null, personalNumber: null, proxy: null, staffId: null, language: 'sv' },
          { kind: 'guest', identification: 'none', name: template[1]!.name as string, country: 'SE', mobile: null, email: 'eva.ek@skola.example', personalNumber: null, proxy: null, staffId: null, language: 'sv' },
          { kind: 'guest', identification: 'sms', name: template[2]!.name as string, country: 'SE', mobile: '+46761234567', email: null, personalNumber: null, proxy: null, staffId: null, language: 'sv' },
        ], 0, config.dataKey);
      }
    });

    const client = app.client();
    await client.login(staff.email, password);
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const bearer = { authorization: `Bearer ${token}` };
    const from = encodeURIComponent(fromClinicTime(monday).toISOString());
    const to = encodeURIComponent(fromClinicTime(addDays(monday, 7)).toISOString());
    // Bookings go two months ahead, out of the measured week.
    const body = JSON.stringify(booking({ startsAt: inDays(60), participants: [...template, { kind: 'guest', name: 'Rektor Rut', email: 'rektor@skola.example', identification: 'none' }] }));

    const cases: Record<string, HttpCase> = {
      [`GET /calendar?view=week (${weekMeetings} meetings, HTML)`]: { path: `/calendar?view=week&date=${monday}`, headers: { cookie } },
      [`GET /api/v1/meetings (the same week, JSON)`]: { path: `/api/v1/meetings?from=${from}&to=${to}`, headers: bearer },
      'POST /api/v1/meetings (book with 4 participants)': { method: 'POST', path: '/api/v1/meetings', headers: { ...bearer, 'content-type': 'application/json' }, body },
    };
    // These cases run far below the empty route: the ratio is also shown the other way round
    // ("1/n": one request costs as much as n empty ones), which two decimals would round to 0.
    const base = await measure(app.url, app.baseline);
    const rows: (string | number)[][] = [['empty hapi route (baseline)', base.rps, base.p99, '1', base.errors]];
    for (const [name, c] of Object.entries(cases)) {
      const m = await measure(app.url, c);
      rows.push([name, m.rps, m.p99, m.rps > 0 ? `1/${Math.round(base.rps / m.rps).toLocaleString('en-US')}` : '0', m.errors]);
    }
    table(`Meetings: a week with ${weekMeetings.toLocaleString('en-US')} meetings in the database (${connections} connections, ${seconds} s each)`, ['case', 'req/s', 'p99 ms', 'rate ÷ baseline', 'errors'], rows);
  } finally {
    await app.stop();
  }
}

if (isMain(import.meta.url)) await run();
