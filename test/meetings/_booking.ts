// Shared by the meetings tests: a valid booking as the routine describes it, and logged-in clients.
import type { Role } from '../../appliance/src/staff/model.ts';
import { countRows } from '../helpers/databases.ts';
import type { Client, TestServer } from '../helpers/server.ts';

/** A time in the coming days, on the hour, so that bookings are never in the past. */
export function inDays(days: number, hourUtc = 9): string {
  const d = new Date(Date.now() + days * 86400000);
  d.setUTCHours(hourUtc, 0, 0, 0);
  return d.toISOString();
}

export const patientBySms = { kind: 'patient', name: '  Sara   Lind ', mobile: '070-123 45 67', identification: 'sms' };
export const teacherByEmail = {
  kind: 'guest',
  name: 'Lärare Eva Ek',
  email: 'Eva.Ek@skola.example',
  identification: 'none',
};
/** A patient identified with BankID, reached by SMS. */
export const patientWithBankId = (name: string, personalNumber: string) => ({
  kind: 'patient',
  name,
  personalNumber,
  identification: 'bankid',
  mobile: '070-765 43 21',
});
export const socialWorkerBySms = {
  kind: 'guest',
  name: 'Olle Socialsekreterare',
  mobile: '0761234567',
  identification: 'sms',
};

export function booking(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Samordnad planering inför skolstart',
    startsAt: inDays(2),
    durationMinutes: 45,
    documentationPlan: 'Anteckningar i journalen av ansvarig läkare',
    participants: [patientBySms, teacherByEmail, socialWorkerBySms],
    ...overrides,
  };
}

export async function loggedIn(
  app: TestServer,
  role: Role = 'clinician',
  unit?: string,
): Promise<{ client: Client; staff: Awaited<ReturnType<TestServer['staff']>>['staff'] }> {
  const { staff, password } = await app.staff(role, unit);
  const client = app.client();
  const reply = await client.login(staff.email, password);
  if (reply.status !== 302) throw new Error(`login failed: ${reply.status}`);
  return { client, staff };
}

export async function countMeetings(app: TestServer): Promise<number> {
  return countRows(app.server.app.db('meetings'));
}
