// The foundation's case: an authenticated GET /api/v1/me (token lookup, staff row, unit row).
import { createToken } from '../appliance/src/staff/service.ts';
import { benchServer, compareHttp, isMain } from './harness.ts';

export async function run(): Promise<void> {
  const app = await benchServer();
  try {
    const { staff } = await app.staff('clinician');
    const { token } = await createToken(app.server.app.db, staff.email, 'bench');
    await compareHttp('Staff API', app.url, app.baseline, {
      'GET /api/v1/me (bearer token)': { path: '/api/v1/me', headers: { authorization: `Bearer ${token}` } },
    });
  } finally {
    await app.stop();
  }
}

if (isMain(import.meta.url)) await run();
