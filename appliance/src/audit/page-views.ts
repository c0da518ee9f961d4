// One audit record per page view. A staff page that updates itself live (the meeting page, the
// meeting room's panel) fetches itself again on every change; those fetches are part of the view
// the person opened, not new accesses, and recording each one drowned the patient's log extract
// (13 "opened the meeting" in 11 minutes for one idle clinician). The page carries a token naming
// the login session (its key, which stays when a password change gives the session a new id) and
// the meeting, minted only when the view itself was recorded; a fetch that presents it (header
// `x-page-view`) is not recorded again. A reload, another tab's first load, an API call or another
// session is a new access and is recorded.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const pageViewHeader = 'x-page-view';

export function pageViewToken(secret: string, sessionKey: string, meetingId: string): string {
  return createHmac('sha256', secret).update(`page-view:${sessionKey}:${meetingId}`).digest('base64url');
}

export function isPageViewToken(secret: string, sessionKey: string, meetingId: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length > 100) return false;
  const expected = Buffer.from(pageViewToken(secret, sessionKey, meetingId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
