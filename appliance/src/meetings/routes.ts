// The REST API for meetings under /api/v1: book, read, list by period, reschedule/update, cancel,
// and add, remove or re-invite participants. Every access is audit-logged.
import type { AuditAction } from '../audit/index.ts';
import type { Request, ServerRoute } from '@hapi/hapi';
import { apiRoute } from '../http/api.ts';
import { must } from '../common/must.ts';
import type { Within } from './events.ts';
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

/**
 * The audit record of a change, written in the change's transaction (the participant it names, if
 * any, is the one the change added or acted on).
 */
export const auditChange =
  (request: Request, action: AuditAction, meetingId: string, participantId?: string): Within =>
  (trx, changes) => {
    const first = changes[0]?.payload;
    const participant = participantId ?? (first && 'participantId' in first ? first.participantId : undefined);
    return request.auditIn(trx, action, {
      meetingId,
      participantId: participant,
      targetType: participant ? 'participant' : 'meeting',
      targetId: participant ?? meetingId,
    });
  };

/** The booking's audit record, in the booking's transaction: it names every participant booked. */
export const auditBooking =
  (request: Request): Within =>
  (trx, [booked]) => {
    const { meetingId, participantIds } = must(booked, 'the booking event').payload as {
      meetingId: string;
      participantIds: string[];
    };
    return request.auditIn(trx, 'meeting.book', {
      meetingId,
      targetType: 'meeting',
      targetId: meetingId,
      details: { participantIds },
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
        const meeting = await meetings.book(staffOf(request), request.payload, auditBooking(request));
        return h.response(meeting).code(201).header('location', `/api/v1/meetings/${meeting.id}`);
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/meetings',
      options: {
        description: 'List meetings in a period',
        notes:
          "Clinicians see their own unit's meetings and those of any unit they booked, lead or take part in (with `unitId`, their unit's alone); admins and support any (support without contact details).",
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
        const { id } = request.params;
        const meeting = await meetings.update(
          staffOf(request),
          id,
          request.payload,
          auditChange(request, 'meeting.update', id),
        );
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
        const { id } = request.params;
        const meeting = await meetings.cancel(
          staffOf(request),
          id,
          version,
          reason,
          auditChange(request, 'meeting.cancel', id),
        );
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
        const { id } = request.params;
        const { meeting } = await meetings.addParticipant(
          staffOf(request),
          id,
          version,
          participant,
          auditChange(request, 'participant.add', id),
        );
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
        const meeting = await meetings.removeParticipant(
          staffOf(request),
          id,
          participantId,
          request.query.version,
          auditChange(request, 'participant.remove', id, participantId),
        );
        return meeting;
      },
    }),
    apiRoute({
      method: 'PATCH',
      path: '/meetings/{id}/participants/{participantId}',
      options: {
        auth: writers,
        description: "Change a participant's contact details",
        notes:
          "Corrects the mobile number or e-mail address of a patient, guest or patient's proxy, by the booking's rules (400 with `rule` and `field`). A new mobile number is read for `country` (the proxy's for `proxy.country`), the one booked when left out, and that country is kept with it. A field left out stays as it is; an empty one is removed. What has not been sent to the old address is withdrawn; where the invitation went to another address now (the mobile number, or the e-mail address of someone without one), the old links stop working and a new invitation goes to the new address. An e-mail address beside an unchanged mobile number (where an SMS that does not arrive falls back to) changes no invitation and no link. The same addresses again change nothing. A colleague's address is their staff account's (400). Send the version you read: 409 when stale, or when the meeting is cancelled or over (ended, or past its end and the grace period).",
        validate: { params: schemas.participantParams, payload: schemas.contactChangePayload },
        response: { schema: schemas.meetingSchema, sample: 0 },
      },
      handler: async (request) => {
        const { id, participantId } = request.params;
        const { version, ...input } = request.payload;
        return meetings.changeContact(
          staffOf(request),
          id,
          participantId,
          version,
          input,
          auditChange(request, 'participant.contact', id, participantId),
        );
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
        const meeting = await meetings.resendInvitation(
          staffOf(request),
          id,
          participantId,
          version,
          auditChange(request, 'invitation.resend', id, participantId),
        );
        return h.response(meeting).code(202);
      },
    }),
  ];
}
