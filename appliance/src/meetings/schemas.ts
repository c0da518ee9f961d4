// The API's shapes (joi), with labels and examples for the OpenAPI document. Joi checks types and
// sizes; the routine's rules (rules.ts) are checked by the service with messages a clinician can act on.
import Joi from 'joi';
import type { Language } from '../common/language.ts';
import { instant, lookupYears, meetingYears } from '../http/dates.ts';
import { objectOf, withoutNul, type Keys } from '../http/route.ts';
import {
  identificationMethods,
  meetingStatuses,
  participantKinds,
  participantStatuses,
  type IdentificationMethod,
  type ParticipantKind,
} from './model.ts';
import type { ContactChangeInput, ContactInput, ParticipantInput } from './rules.ts';
import type { BookingInput, ListQuery, MeetingUpdate } from './service.ts';

/**
 * Free text up to `max` characters, a line break counted once: a browser sends a textarea's line
 * breaks as CR LF, though its maxlength counts each as one character.
 */
export const text = (max: number) => withoutNul(Joi.string().replace(/\r\n?/g, '\n').max(max)).allow('');

const contactFields: Keys<ContactInput> = {
  name: text(200).description('Full name, spelled as the person will type it').example('Sara Lind'),
  country: Joi.string()
    .length(2)
    .uppercase()
    .description('ISO 3166 country the mobile number is read for')
    .default('SE')
    .example('SE'),
  mobile: text(32).description('Mobile number as typed, stored in E.164').example('070-123 45 67'),
  email: text(254).description('E-mail address').example('sara.lind@example.se'),
  personalNumber: text(16)
    .description('Personal identity number (only with BankID; never for a guest)')
    .example('19121212-1212'),
};

export const contactInput = objectOf<ContactInput>(contactFields).label('ContactInput');

export const participantInput = objectOf<ParticipantInput>({
  ...contactFields,
  kind: Joi.string<ParticipantKind>()
    .valid(...participantKinds)
    .required()
    .description('patient, patient_proxy (the patient with an "ombud"), colleague (a staff account) or guest')
    .example('guest'),
  identification: Joi.string<IdentificationMethod>()
    .valid(...identificationMethods)
    .description('patient: bankid or sms; colleague: siths; guest: none, sms, bankid or siths')
    .example('none'),
  proxy: contactInput.description('The proxy ("ombud"), for kind patient_proxy'),
  language: Joi.string<Language>()
    .valid('sv', 'en')
    .default('sv')
    .description('The language of the messages and pages this participant gets')
    .example('sv'),
  staffId: Joi.string().guid().description("A colleague's staff account id"),
  staffEmail: withoutNul(Joi.string().max(254))
    .description("…or the colleague's e-mail address")
    .example('kollega@region.example'),
}).label('ParticipantInput');

const version = Joi.number()
  .integer()
  .min(1)
  .required()
  .description('The version the change is based on (409 when the meeting has changed since)')
  .example(1);

export const bookingPayload = objectOf<BookingInput>({
  unitId: Joi.string().guid().description('Care unit (admins only; clinicians book for their own unit)'),
  title: text(200).required().example('Samordnad planering inför skolstart'),
  startsAt: instant(meetingYears)
    .required()
    .description('Start, ISO 8601 with an offset (Z or ±HH:MM), a real date from this year to ten years ahead')
    .example('2030-03-04T09:00:00+01:00'),
  durationMinutes: Joi.number().integer().min(5).max(480).required().example(45),
  ledBy: withoutNul(Joi.string().max(254)).description(
    'Who runs the meeting: staff id or e-mail; the booking clinician by default',
  ),
  documentationPlan: text(2000)
    .required()
    .description('How documentation is done during and after the meeting')
    .example('Anteckningar i journalen av ansvarig läkare'),
  testMeeting: Joi.boolean().default(false).description('A test meeting, for parties who have never met digitally'),
  participants: Joi.array()
    .items(participantInput)
    .min(1)
    .max(100)
    .required()
    .description('The patient (or patient with proxy) first, then the others'),
}).label('Booking');

export const updatePayload = objectOf<MeetingUpdate>({
  version,
  title: text(200),
  startsAt: instant(meetingYears)
    .description('New start, ISO 8601 with an offset')
    .example('2030-03-05T13:00:00+01:00'),
  durationMinutes: Joi.number().integer().min(5).max(480),
  ledBy: withoutNul(Joi.string().max(254)),
  documentationPlan: text(2000),
}).label('MeetingUpdate');

export const cancelPayload = objectOf<{ version: number; reason: string }>({
  version,
  reason: text(500).required().description('Told to every participant').example('Patienten är inlagd'),
}).label('Cancellation');

export const addParticipantPayload = objectOf<{ version: number; participant: ParticipantInput }>({
  version,
  participant: participantInput.required(),
}).label('NewParticipant');

const reachFields = {
  country: Joi.string()
    .length(2)
    .uppercase()
    .description('ISO 3166 country a new mobile number is read for (and kept with it); the one booked when left out')
    .example('NO'),
  mobile: contactFields.mobile.description(
    'New mobile number as typed (read for the country booked); empty removes it',
  ),
  email: contactFields.email.description('New e-mail address; empty removes it'),
};

export const contactChangePayload = objectOf<ContactChangeInput & { version: number }>({
  version,
  ...reachFields,
  proxy: objectOf<NonNullable<ContactChangeInput['proxy']>>(reachFields)
    .description("The proxy's (for kind patient_proxy)")
    .label('ProxyContactChange'),
}).label('ContactChange');

export const resendPayload = objectOf<{ version: number }>({ version }).required().label('Resend');

export const versionQuery = objectOf<{ version: number }>({ version }).label('Version');

export const meetingParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });
export const participantParams = objectOf<{ id: string; participantId: string }>({
  id: Joi.string().guid().required(),
  participantId: Joi.string().guid().required(),
});

export const listQuery = objectOf<ListQuery>({
  from: instant(lookupYears).required().example('2030-03-04T00:00:00+01:00'),
  to: instant(lookupYears).required().example('2030-03-11T00:00:00+01:00'),
  unitId: Joi.string().guid().description('Care unit (clinicians: their own)'),
  clinicianId: Joi.string().guid().description('Only meetings this clinician booked or leads'),
}).label('Period');

const contact = {
  name: Joi.string().example('Sara Lind'),
  country: Joi.string().example('SE'),
  mobile: Joi.string().allow(null).example('+46701234567'),
  email: Joi.string().allow(null).example('sara.lind@example.se'),
  personalNumberMasked: Joi.string().allow(null).example('19121212-****'),
};

export const participantSchema = Joi.object({
  id: Joi.string().guid(),
  meetingId: Joi.string().guid(),
  kind: Joi.string().valid(...participantKinds),
  identification: Joi.string().valid(...identificationMethods),
  ...contact,
  proxy: Joi.object(contact).allow(null).label('Proxy'),
  staffId: Joi.string().allow(null),
  status: Joi.string().valid(...participantStatuses),
  addedAt: Joi.date(),
}).label('Participant');

export const meetingSchema = Joi.object({
  id: Joi.string().guid(),
  unitId: Joi.string().guid(),
  title: Joi.string(),
  startsAt: Joi.date(),
  durationMinutes: Joi.number().integer(),
  bookedBy: Joi.string().guid(),
  ledBy: Joi.string().guid(),
  documentationPlan: Joi.string().allow(''),
  testMeeting: Joi.boolean(),
  status: Joi.string()
    .valid(...meetingStatuses)
    .description('`ended` also for a meeting past its end and the grace period though nobody marked it ended'),
  cancelReason: Joi.string().allow(null),
  version: Joi.number().integer().example(2),
  createdAt: Joi.date(),
  updatedAt: Joi.date(),
  participants: Joi.array().items(participantSchema),
}).label('Meeting');

export const meetingListSchema = Joi.object({ meetings: Joi.array().items(meetingSchema) }).label('MeetingList');
