// The REST API for meetings under /api/v1: book, read, list by period, reschedule/update, cancel,
// and add, remove or re-invite participants. Every access is audit-logged.
import type { AuditAction } from '../audit/index.ts';
import type { Request, ServerRoute } from '@hapi/hapi';
import { apiRoute } from '../http/api.ts';
import type { Meeting } from './model.ts';
import * as schemas from './schemas.ts';
import type { MeetingService } from './service.ts';

const staffOf = (request: Request) => request.auth.credentials.user!;
const writers = { scope: ['admin', 'clinician'] };

/** The audit record of one access to a meeting (or one of its participants). */
export const audited = async (request: Request, action: AuditAction, meeting: Meeting, participantId?: string) => {
  await request.audit(action, {
    meetingId: meeting.id,
    participantId,
    targetType: participantId ? 'participant' : 'meeting',
    targetId: participantId ?? meeting.id,
  });
};

export function apiRoutes(meetings: MeetingService): ServerRoute[] {
  return [
    apiRoute({
      method: 'POST',
      path: '/meetings',
      options: {
        auth: writers,
        description: 'Book a meeting',
        notes:
          'The patient (or patient with proxy) first, then colleagues and guests. A guest has a mobile number or an e-mail address, never both, and is never asked for a personal identity number. Rule violations answer 400 with `rule` and `field`.',
        validate: { payload: schemas.bookingPayload },
        response: { status: { 201: schemas.meetingSchema }, sample: 0 },
      },
      handler: async (request, h) => {
        const meeting = await meetings.book(staffOf(request), request.payload);
        await request.audit('meeting.book', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
          details: { participantIds: meeting.participants.map((p) => p.id) },
        });
        return h.response(meeting).code(201).header('location', `/api/v1/meetings/${meeting.id}`);
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/meetings',
      options: {
        description: 'List meetings in a period',
        notes: 'Clinicians see their own unit; admins and support any (support without contact details).',
        validate: { query: schemas.listQuery },
        response: { schema: schemas.meetingListSchema, sample: 0 },
      },
      handler: async (request) => {
        const query = request.query;
        const list = await meetings.list(staffOf(request), query);
        // One record per list, naming every meeting shown.
        await request.audit('meeting.list', {
          targetType: 'meeting',
          details: {
            from: query.from.toISOString(),
            to: query.to.toISOString(),
            unitId: query.unitId,
            meetingIds: list.map((m) => m.id),
          },
        });
        return { meetings: list };
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/meetings/{id}',
      options: {
        description: 'Read a meeting with its participants',
        validate: { params: schemas.meetingParams },
        response: { schema: schemas.meetingSchema, sample: 0 },
      },
      handler: async (request) => {
        const meeting = await meetings.get(staffOf(request), request.params.id);
        await audited(request, 'meeting.read', meeting);
        return meeting;
      },
    }),
    apiRoute({
      method: 'PATCH',
      path: '/meetings/{id}',
      options: {
        auth: writers,
        description: 'Reschedule or update a meeting',
        notes:
          'A new start or duration is told to every participant. Send the version you read: 409 when someone changed the meeting since.',
        validate: { params: schemas.meetingParams, payload: schemas.updatePayload },
        response: { schema: schemas.meetingSchema, sample: 0 },
      },
      handler: async (request) => {
        const meeting = await meetings.update(staffOf(request), request.params.id, request.payload);
        await audited(request, 'meeting.update', meeting);
        return meeting;
      },
    }),
    apiRoute({
      method: 'POST',
      path: '/meetings/{id}/cancel',
      options: {
        auth: writers,
        description: 'Cancel a meeting',
        notes: 'Everyone is told, with the reason.',
        validate: { params: schemas.meetingParams, payload: schemas.cancelPayload },
        response: { schema: schemas.meetingSchema, sample: 0 },
      },
      handler: async (request) => {
        const { version, reason } = request.payload;
        const meeting = await meetings.cancel(staffOf(request), request.params.id, version, reason);
        await audited(request, 'meeting.cancel', meeting);
        return meeting;
      },
    }),
    apiRoute({
      method: 'POST',
      path: '/meetings/{id}/participants',
      options: {
        auth: writers,
        description: 'Add a participant',
        validate: { params: schemas.meetingParams, payload: schemas.addParticipantPayload },
        response: { status: { 201: schemas.meetingSchema }, sample: 0 },
      },
      handler: async (request, h) => {
        const { version, participant } = request.payload;
        const { meeting, participantId } = await meetings.addParticipant(
          staffOf(request),
          request.params.id,
          version,
          participant,
        );
        await audited(request, 'participant.add', meeting, participantId);
        return h.response(meeting).code(201);
      },
    }),
    apiRoute({
      method: 'DELETE',
      path: '/meetings/{id}/participants/{participantId}',
      options: {
        auth: writers,
        description: 'Remove a participant',
        notes: 'The patient cannot be removed: cancel the meeting instead.',
        validate: { params: schemas.participantParams, query: schemas.versionQuery },
        response: { schema: schemas.meetingSchema, sample: 0 },
      },
      handler: async (request) => {
        const { id, participantId } = request.params;
        const meeting = await meetings.removeParticipant(staffOf(request), id, participantId, request.query.version);
        await audited(request, 'participant.remove', meeting, participantId);
        return meeting;
      },
    }),
    apiRoute({
      method: 'POST',
      path: '/meetings/{id}/participants/{participantId}/resend',
      options: {
        auth: writers,
        description: "Send a participant's invitation again",
        notes:
          "Revokes the participant's link and sends a new one. Takes the version like every change (409 when stale; the version is not raised); at most 5 per participant and hour (429 with Retry-After).",
        validate: { params: schemas.participantParams, payload: schemas.resendPayload },
        response: { status: { 202: schemas.meetingSchema }, sample: 0 },
      },
      handler: async (request, h) => {
        const { id, participantId } = request.params;
        const { version } = request.payload;
        const meeting = await meetings.resendInvitation(staffOf(request), id, participantId, version);
        await audited(request, 'invitation.resend', meeting, participantId);
        return h.response(meeting).code(202);
      },
    }),
  ];
}
