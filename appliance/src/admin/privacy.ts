// Privacy requests (GDPR art. 15 and 17): export everything the appliance holds about one
// participant, and erase their contact data on request. The audit trail is kept: it is the care
// provider's legal record of access (Patientdatalagen) and holds ids, not contact data.
//
// Both gather what each domain offers for its own tables (participants and meeting_events from
// meetings, outbox_messages from invites, tech test results, the connection log's entries, the
// audit trail), read-only for the export and in one transaction for the erasure; this is the one
// place that sees a person whole.
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { Knex } from 'knex';
import { findAccesses } from '../audit/index.ts';
import { entriesAbout, eraseDeviceDetails } from '../connlog/index.ts';
import type { Db } from '../db/knex.ts';
import { iso } from '../db/values.ts';
import { languageOf, t } from '../http/i18n.ts';
import { objectOf, route } from '../http/route.ts';
import { eraseParticipantMessages, messagesOf, sentToProxy } from '../invites/index.ts';
import {
  type ContactPerson,
  eraseParticipantContacts,
  everyParticipantOf,
  findMeeting,
  findParticipant,
  listChanges,
  personalNumberOf,
} from '../meetings/index.ts';
import { eraseResultDevices, participantSubject, resultsOf } from '../techtest/index.ts';
import { adminOnly } from './audit-pages.ts';
import { clinicTime } from './extract.ts';

/**
 * Everything held about one person of a participant's row: the participant (`main`), or their
 * proxy (`proxy`). Each gets their own contact data and number, the messages sent to them and
 * their entries in the connection log and the technical tests they took, and none of the other's;
 * the participant's export names their proxy.
 */
export async function exportParticipant(
  db: Db,
  dataKey: Buffer,
  participantId: string,
  person: ContactPerson = 'main',
): Promise<Record<string, unknown> | undefined> {
  const participant = await findParticipant(db, participantId);
  if (!participant || (person === 'proxy' && !participant.proxy)) return undefined;
  const meeting = await findMeeting(db, participant.meetingId);
  const messages = (await messagesOf(db, { participantId }))
    .filter((m) => sentToProxy(m) === (person === 'proxy'))
    .map((m) => ({
      id: m.id,
      channel: m.channel,
      kind: m.kind,
      recipient: m.recipient,
      status: m.status,
      createdAt: m.createdAt,
      sentAt: m.sentAt,
      deliveredAt: m.deliveredAt,
      failedAt: m.failedAt,
    }));
  // Every test they took, oldest first (each names their devices), not only the last: their own,
  // under their own link. A proxy's tests name the proxy's devices and are the proxy's (their
  // export, ?person=proxy), as their contact data are.
  const techTests = await resultsOf(db, participantSubject({ participantId, person }));
  // What the connection log holds about them: when they came and went, their browser and address.
  const connectionLog = (await entriesAbout(db, { meetingId: participant.meetingId, participantId }))
    .filter((e) => (e.details.person === 'proxy') === (person === 'proxy'))
    .map((e) => ({ at: e.at, type: e.type, error: e.error, details: e.details }));
  return {
    exportedAt: iso(),
    // The person's own data, so the full number: the masked form is only for staff screens.
    participant:
      person === 'proxy' && participant.proxy
        ? {
            id: participant.id,
            meetingId: participant.meetingId,
            proxyFor: participant.name,
            ...participant.proxy,
            personalNumber: await personalNumberOf(db, participantId, dataKey, 'proxy'),
          }
        : {
            ...participant,
            personalNumber: await personalNumberOf(db, participantId, dataKey),
            // Who represented them is part of their meeting's record; the proxy's contact data and
            // number are the proxy's own (their export, ?person=proxy).
            proxy: participant.proxy && { name: participant.proxy.name },
          },
    meeting: meeting && {
      id: meeting.id,
      title: meeting.title,
      startsAt: meeting.startsAt,
      durationMinutes: meeting.durationMinutes,
      status: meeting.status,
      unitId: meeting.unitId,
    },
    changes: (await listChanges(db, participant.meetingId)).filter((c) => c.participantId === participantId),
    messages,
    techTests,
    connectionLog,
    staffAccesses: (
      await findAccesses(db, { meetingIds: [participant.meetingId], participantIds: [participantId] })
    ).map((r) => ({ at: r.at, staffId: r.staffId, unitId: r.unitId, action: r.action })),
  };
}

/**
 * Erases one person's contact data: mobile, e-mail and personal identity number, the addresses
 * on messages sent to them, and the address, browser and device names their connection-log entries
 * and technical tests hold - the participant's, or their proxy's (`person`), each on their own
 * request; the other's stay. The name stays: the meeting's record of who took part is the care
 * provider's to keep, as is the audit trail; so do the connection log's events and their times.
 */
export async function eraseContactData(
  db: Db,
  participantId: string,
  person: ContactPerson,
  within?: (trx: Knex.Transaction) => Promise<void>,
): Promise<boolean> {
  // Each domain erases its own table, in one transaction with the caller's audit record: all of it or nothing.
  return db.transaction(async (trx) => {
    const participant = await findParticipant(trx, participantId);
    if (!participant) return false;
    // The messages before the participant's row: the order the outbox's batch locks them in (it
    // moves a participant's status as it records their message), or PostgreSQL may find a deadlock.
    await eraseParticipantMessages(trx, participantId, person);
    await eraseParticipantContacts(trx, participantId, person);
    // What told their own computer or phone: the address, browser and devices in the connection
    // log and their technical tests. The events and figures stay, for support's statistics.
    await eraseDeviceDetails(trx, { meetingId: participant.meetingId, participantId, person });
    await eraseResultDevices(trx, participantSubject({ participantId, person }));
    await within?.(trx);
    return true;
  });
}

/** Whether a typed meeting id is an id at all (joi's own check, as the other pages validate ids). */
const isId = (value: string) => Joi.string().guid().validate(value).error === undefined;

const participantParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });
/** Whose data on a participant's row: the participant's unless their proxy asked. */
const person = Joi.string<ContactPerson>().valid('main', 'proxy').default('main');
const personQuery = objectOf<{ person: ContactPerson }>({ person });

export const privacyRoutes: ServerRoute[] = [
  route({
    method: 'GET',
    path: '/admin/privacy',
    options: {
      auth: adminOnly,
      validate: {
        query: objectOf<{ meeting?: string; erased?: boolean }>({
          // As typed or pasted (spaces around it, a character wrong): a mistyped id is a meeting not
          // found, said on the form, not an error page.
          meeting: Joi.string().trim().max(200).empty(''),
          erased: Joi.boolean(),
        }),
      },
    },
    async handler(request, h) {
      const { db } = request.server.app;
      const lang = languageOf(request);
      const meetingId = request.query.meeting;
      const meeting = meetingId && isId(meetingId) ? await findMeeting(db, meetingId) : undefined;
      if (meeting)
        await request.audit('privacy.lookup', { meetingId: meeting.id, targetType: 'meeting', targetId: meeting.id });
      return h.view('admin/privacy', {
        title: t(lang, 'admin.privacy.title'),
        styles: ['admin.css'],
        meetingId,
        notFound: meetingId && !meeting,
        meeting: meeting && { ...meeting, when: clinicTime(meeting.startsAt) },
        // Those removed from the meeting too: the meeting still holds their contact data.
        // A proxy has a row of their own: each person asks for their own data and its erasure.
        participants: (meeting ? await everyParticipantOf(db, meeting.id) : undefined)?.flatMap((p) => {
          const kind = t(lang, `meetings.kind.${p.kind}`);
          const removed = p.removedAt ? ` (${t(lang, 'meetings.participant.removed')})` : '';
          const contact = (c: { mobile: string | null; email: string | null; personalNumberMasked: string | null }) =>
            [c.mobile, c.email, c.personalNumberMasked].filter(Boolean).join(', ') ||
            t(lang, 'admin.privacy.noContact');
          const main = { id: p.id, person: 'main', name: p.name, kindText: `${kind}${removed}`, contact: contact(p) };
          if (!p.proxy) return [main];
          const proxyKind = t(lang, 'admin.privacy.proxyOf', { name: p.name });
          return [
            main,
            {
              id: p.id,
              person: 'proxy',
              proxy: true,
              name: p.proxy.name,
              kindText: `${proxyKind}${removed}`,
              contact: contact(p.proxy),
            },
          ];
        }),
        notice: request.query.erased ? t(lang, 'admin.privacy.erased') : undefined,
      });
    },
  }),
  route({
    method: 'GET',
    path: '/admin/privacy/participants/{id}/export',
    options: { auth: adminOnly, validate: { params: participantParams, query: personQuery } },
    async handler(request, h) {
      const { db, config } = request.server.app;
      const { id } = request.params;
      const { person } = request.query;
      const data = await exportParticipant(db, config.dataKey, id, person);
      if (!data) return h.response({ message: t(languageOf(request), 'admin.privacy.notFound') }).code(404);
      const meetingId = (data.participant as { meetingId: string }).meetingId;
      await request.audit('privacy.export', {
        meetingId,
        participantId: id,
        targetType: 'participant',
        targetId: id,
        details: { person },
      });
      return h
        .response(JSON.stringify(data, null, 2))
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="deltagare-${id}.json"`);
    },
  }),
  route({
    method: 'POST',
    path: '/admin/privacy/participants/{id}/erase',
    options: {
      auth: adminOnly,
      validate: {
        params: participantParams,
        payload: objectOf<{ crumb?: string; confirm: 'yes'; person: ContactPerson }>({
          crumb: Joi.string(),
          confirm: Joi.string<'yes'>().valid('yes').required(),
          person,
        }),
      },
    },
    async handler(request, h) {
      const { db } = request.server.app;
      const { id } = request.params;
      const { person } = request.payload;
      const participant = await findParticipant(db, id);
      const notFound = () => h.response({ message: t(languageOf(request), 'admin.privacy.notFound') }).code(404);
      if (!participant || (person === 'proxy' && !participant.proxy)) return notFound();
      const audit = (trx: Knex.Transaction) =>
        request.auditIn(trx, 'privacy.erase', {
          meetingId: participant.meetingId,
          participantId: id,
          targetType: 'participant',
          targetId: id,
          details: { person },
        });
      if (!(await eraseContactData(db, id, person, audit))) return notFound();
      return h.redirect(`/admin/privacy?meeting=${participant.meetingId}&erased=true`);
    },
  }),
];
