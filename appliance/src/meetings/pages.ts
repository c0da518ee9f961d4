import type { ServerRoute } from '@hapi/hapi';
import type { LiveUpdates } from './live.ts';
import type { MeetingService } from './service.ts';

export function routes(_meetings: MeetingService, _live: LiveUpdates): ServerRoute[] {
  return [];
}
