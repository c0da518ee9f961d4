// What staff see of each person's way in: link opened and bound, locked after wrong names,
// identified (and how). The meeting page shows it; a locked link gets a one-click re-send there.
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { apiRoute } from '../http/api.ts';
import { objectOf } from '../http/route.ts';
import { entryStatesOf } from './store.ts';
import { meetingFor } from '../meetings/index.ts';

export const entryStaffRoutes: ServerRoute[] = [
  apiRoute({
    method: 'GET',
    path: '/meetings/{id}/entry',
    options: {
      description: 'How far each invited person has come on the way in',
      notes:
        'Per participant and person (main or proxy): whether the link is bound to a browser, locked after wrong names, and how the person was identified (or how often they came back from BankID/SITHS as someone else).',
      validate: { params: objectOf<{ id: string }>({ id: Joi.string().guid().required() }) },
    },
    handler: async (request) => {
      const staff = request.auth.credentials.user!;
      const meeting = await meetingFor(request.server, staff, request.params.id);
      await request.audit('meeting.entry.read', { meetingId: meeting.id, targetType: 'meeting', targetId: meeting.id });
      const states = await entryStatesOf(
        request.server.app.db,
        meeting.participants.map((p) => p.id),
      );
      return states.map((s) => ({
        participantId: s.participantId,
        person: s.person,
        opened: s.boundAt !== null,
        openedAt: s.boundAt,
        nameFailures: s.nameFailures,
        locked: s.lockedAt !== null,
        identifiedBy: s.identifiedBy,
        identifiedAt: s.identifiedAt,
        identityMismatches: s.identityMismatches,
        identityMismatchAt: s.identityMismatchAt,
      }));
    },
  }),
];
