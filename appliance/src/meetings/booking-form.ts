// The booking form: one participant at a time as the routine's screens go ("Lägg till deltagare",
// "Lägg till"), the list so far carried in the form itself so that it works without JavaScript,
// and the same rules as the API checked on every step.
import Boom from '@hapi/boom';
import type { Request, ResponseToolkit } from '@hapi/hapi';
import Joi from 'joi';
import { validationSentences } from '../http/errors.ts';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { objectOf } from '../http/route.ts';
import { identificationMethods, isPatient, participantKinds } from './model.ts';
import type { ParticipantInput } from './rules.ts';
import { participantInput, text } from './schemas.ts';
import { maskPersonalNumber, parsePersonalNumber } from './personal-number.ts';
import { defaultCountry, displayPhone, isCountry, parseMobile } from './contacts.ts';
import { clinicInstants, today } from '../common/clock.ts';

const countries = ['SE', 'NO', 'DK', 'FI', 'IS', 'DE', 'PL', 'GB'];

/**
 * The countries a mobile number can be read for, by name, the one chosen (Sweden unless another)
 * selected: the booking's participant fields and the meeting page's contact forms.
 */
export const countryChoices = (lang: Language, chosen: string | undefined) =>
  countries.map((c) => ({
    value: c,
    label: t(lang, `meetings.country.${c}`),
    selected: c === (chosen || defaultCountry),
  }));

/** The booking form's fields for the participant being added (p_*), and back. */
export const participantFields = {
  p_kind: Joi.string()
    .valid(...participantKinds)
    .default('patient'),
  p_country: Joi.string().max(2).allow('').default('SE'),
  p_name: text(200).default(''),
  p_mobile: text(32).default(''),
  p_email: text(254).default(''),
  p_personalNumber: text(16).default(''),
  p_identification: Joi.string()
    .valid(...identificationMethods)
    .default('sms'),
  p_proxyName: text(200).default(''),
  p_proxyMobile: text(32).default(''),
  p_proxyEmail: text(254).default(''),
  p_proxyPersonalNumber: text(16).default(''),
  p_staffEmail: text(254).default(''),
  p_language: Joi.string().valid('sv', 'en').default('sv'),
};
export type ParticipantFields = { [K in keyof typeof participantFields]: string };

/** Which of the two instants a time that comes twice that night is: summer time first, then standard time. */
export type Clock = 'summer' | 'standard';

/** The forms' field for it (booking and reschedule). */
export const clockField = Joi.string<Clock | ''>().valid('summer', 'standard').allow('');

export const bookingForm = objectOf<BookingForm>({
  crumb: Joi.string(),
  title: text(200).default(''),
  date: text(10).default(''),
  time: text(5).default(''),
  durationMinutes: Joi.number().integer().min(5).max(480).default(45),
  ledBy: text(254).default(''),
  documentationPlan: text(2000).default(''),
  testMeeting: Joi.string().valid('on', 'true').allow(''),
  draft: Joi.string()
    .max(64 * 1024)
    .allow('')
    .default(''),
  action: Joi.string<BookingForm['action']>().valid('add', 'book').default('book'),
  remove: Joi.number().integer().min(0).max(100),
  clock: clockField,
  lang: Joi.string<Language>().valid('sv', 'en'),
  ...participantFields,
});
export type BookingForm = ParticipantFields & {
  crumb?: string;
  title: string;
  date: string;
  time: string;
  durationMinutes: number;
  ledBy: string;
  documentationPlan: string;
  testMeeting?: string;
  draft: string;
  action: 'add' | 'book';
  remove?: number;
  /** Which of the two, when the time comes twice that night (the clocks go back): clockChoice. */
  clock?: Clock | '';
  /** The language switch, a button of the form (layouts/layout.hbs), so that what was typed stays. */
  lang?: Language;
};

/**
 * The choice a booking or reschedule form shows when its date and time come twice (02:00–02:59 the
 * night the clocks go back), with the one chosen (or the meeting's own) checked; undefined on every
 * other night, and for a date or time not written as the forms write them.
 */
export function clockChoice(
  lang: Language,
  date: string | undefined,
  time: string | undefined,
  chosen?: string,
): { legend: string; options: { value: Clock; label: string; checked: boolean }[] } | undefined {
  if (!date || !time || !/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}$/.test(time)) return undefined;
  if (clinicInstants(date, time).length < 2) return undefined;
  return {
    legend: t(lang, 'meetings.clock.legend', { time }),
    options: (['summer', 'standard'] as const).map((value) => ({
      value,
      label: t(lang, `meetings.clock.${value}`, { time }),
      checked: value === chosen,
    })),
  };
}

export function fromFields(f: ParticipantFields): ParticipantInput {
  const kind = f.p_kind as ParticipantInput['kind'];
  if (kind === 'colleague') return { kind, identification: 'siths', staffEmail: f.p_staffEmail };
  const input: ParticipantInput = {
    kind,
    identification: f.p_identification as ParticipantInput['identification'],
    country: f.p_country || 'SE',
    name: f.p_name,
    mobile: f.p_mobile,
    email: f.p_email,
    personalNumber: f.p_personalNumber,
    language: f.p_language === 'en' ? 'en' : 'sv',
  };
  if (kind === 'patient_proxy')
    input.proxy = {
      name: f.p_proxyName,
      country: f.p_country || 'SE',
      mobile: f.p_proxyMobile,
      email: f.p_proxyEmail,
      personalNumber: f.p_proxyPersonalNumber,
    };
  return input;
}

export const hasParticipant = (f: ParticipantFields) =>
  [f.p_name, f.p_mobile, f.p_email, f.p_staffEmail, f.p_proxyName, f.p_personalNumber].some((v) => v.trim() !== '');

const draftSchema = Joi.array<ParticipantInput[]>().items(participantInput).max(100);

export function readDraft(text: string): ParticipantInput[] {
  if (!text) return [];
  try {
    // Not destructured: joi types the value of a failed validation `any`; after the check it is the list.
    const checked = draftSchema.validate(JSON.parse(text));
    if (checked.error) throw checked.error;
    return checked.value;
  } catch {
    throw Boom.badRequest('The participant list in the form was damaged: start the booking again');
  }
}

/** Form fields in the form's own names: `participant.mobile` → p_mobile. */
export function formField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const m = /^participant\.(proxy\.)?(\w+)$/.exec(field);
  if (!m) return field;
  const [, proxy, name = ''] = m;
  return proxy ? `p_proxy${name.charAt(0).toUpperCase()}${name.slice(1)}` : `p_${name}`;
}

/**
 * The fields a refusal marks (aria-invalid, and described by the message): the one at fault, and for
 * a start that cannot be (in the past, an hour the clock skips) both the date and the time.
 */
export function invalidFields(field: string | undefined): Record<string, true> {
  if (!field) return {};
  return field === 'startsAt' ? { date: true, time: true } : { [field]: true };
}

/** The form's fields by the label the clinician reads beside them (meetings.book.*). */
const fieldLabels: Record<string, string> = {
  title: 'subject',
  date: 'date',
  time: 'time',
  durationMinutes: 'duration',
  ledBy: 'ledBy',
  documentationPlan: 'documentation',
  testMeeting: 'testMeeting',
  p_kind: 'kind',
  p_country: 'country',
  p_name: 'name',
  p_mobile: 'mobile',
  p_email: 'email',
  p_personalNumber: 'personalNumber',
  p_identification: 'identification',
  p_proxyName: 'proxyName',
  p_proxyMobile: 'proxyMobile',
  p_proxyEmail: 'proxyEmail',
  p_proxyPersonalNumber: 'proxyPersonalNumber',
  p_staffEmail: 'staffEmail',
  p_language: 'language',
};

/**
 * One thing a staff form refuses (the booking form, and the meeting page's reschedule and add
 * forms): where its message shows, what it says, and the field at fault. Every problem found is
 * said at once, the meeting's above the form, the participant's under "Lägg till deltagare".
 */
export interface FormProblem {
  where: 'meeting' | 'participant';
  message: string;
  field?: string;
}

/** A booking form's field by the label the clinician reads beside it. */
const bookingLabel = (lang: Language, name: string): string | undefined => {
  const key = fieldLabels[name];
  return key ? t(lang, `meetings.book.${key}`) : undefined;
};

/**
 * Each field that failed its check (a duration over 480 from a browser that does not hold to the
 * field's max, a title pasted past its length) as a problem of its own, named by its label (the
 * booking form's, unless `labelOf` says): the participant's fields under "Lägg till deltagare",
 * the meeting's above the form. `skip` names fields checked elsewhere.
 */
export function fieldProblems(
  error: Error | undefined,
  lang: Language,
  labelOf: (name: string) => string | undefined = (name) => bookingLabel(lang, name),
  skip: readonly string[] = [],
): FormProblem[] {
  return ((error as Joi.ValidationError | undefined)?.details ?? [])
    .filter((detail) => !skip.includes(String(detail.path[0])))
    .map((detail) => {
      const field = String(detail.path[0]);
      return {
        where: field.startsWith('p_') ? 'participant' : 'meeting',
        message: validationSentences({ details: [detail] }, lang, labelOf),
        field,
      };
    });
}

/**
 * The problems as a form shows them (views/partials/form-problems.hbs): the meeting's lines, the
 * participant's lines, and every field at fault marked (aria-invalid, described by its lines).
 */
export function problemsView(problems: readonly FormProblem[]) {
  return {
    meetingProblems: problems.filter((p) => p.where === 'meeting').map((p) => p.message),
    participantProblems: problems.filter((p) => p.where === 'participant').map((p) => p.message),
    invalid: Object.assign({}, ...problems.map((p) => invalidFields(formField(p.field)))) as Record<string, true>,
  };
}

/** The participant list the form carried, or none when it came back damaged (the form starts it again). */
export function sentDraft(sent: Partial<BookingForm>): ParticipantInput[] {
  try {
    return readDraft(typeof sent.draft === 'string' ? sent.draft : '');
  } catch {
    // A damaged list is not the clinician's doing to fix field by field: it starts empty, as it would.
    return [];
  }
}

/** A mobile number in the form's list as the meeting page will show it (070-123 45 67), however it was typed. */
function shownMobile(mobile: string | undefined, country: string | undefined): string | undefined {
  const code = (country || defaultCountry).toUpperCase();
  if (!mobile || !isCountry(code)) return mobile;
  const parsed = parseMobile(mobile, code);
  return parsed.ok ? displayPhone(parsed.e164) : mobile;
}

/** BankID and SITHS go through the hospital's identity provider; a colleague's SITHS is their staff login. */
export const needsIdentityProvider = (method: string): boolean => method === 'bankid' || method === 'siths';

/**
 * What the participant fields (views/partials/participant-fields.hbs) offer: the kinds, the
 * identification methods (BankID and SITHS not without an identity provider), countries and
 * languages, and the rules' hints the form's script shows while typing. The kind starts as the
 * patient until there is one, then as a guest; the method as the server's form starts that kind.
 */
export function participantChoices(request: Request, form: Partial<ParticipantFields>, hasPatient: boolean) {
  const lang = languageOf(request);
  const kind = form.p_kind ?? (hasPatient ? 'guest' : 'patient');
  const identification = form.p_identification ?? (kind === 'guest' ? 'none' : kind === 'colleague' ? 'siths' : 'sms');
  const rules = [
    'guest_mobile_and_email',
    'guest_personal_number',
    'sms_needs_mobile',
    'patient_first',
    'documentation_required',
  ];
  // Without an identity provider nobody can identify with BankID or SITHS: not offered (said why).
  const noIdp = !request.server.app.config.oidc;
  return {
    form: { ...form, p_kind: kind, p_identification: identification, p_country: form.p_country || 'SE' },
    kinds: participantKinds.map((k) => ({ value: k, label: t(lang, `meetings.kind.${k}`), checked: k === kind })),
    identifications: (['siths', 'bankid', 'none', 'sms'] as const).map((m) => {
      const unavailable = noIdp && needsIdentityProvider(m) && kind !== 'colleague';
      return {
        value: m,
        label: unavailable
          ? t(lang, 'meetings.ident.unavailable', { method: t(lang, `meetings.ident.${m}`) })
          : t(lang, `meetings.ident.${m}`),
        selected: m === identification && !unavailable,
        unavailable,
      };
    }),
    noIdp: noIdp ? t(lang, 'meetings.book.noIdp') : undefined,
    languages: (['sv', 'en'] as const).map((l) => ({
      value: l,
      label: t(lang, `meetings.language.${l}`),
      selected: l === (form.p_language || 'sv'),
    })),
    countries: countryChoices(lang, form.p_country),
    hints: Object.fromEntries(
      rules.map((r) => [r, t(lang, `meetings.rule.${r}`, { name: t(lang, 'meetings.book.someone') })]),
    ),
  };
}

/**
 * The booking form, with what was typed and every problem found: each message where its part of
 * the form is, and each field at fault marked (aria-invalid, described by the messages).
 */
export function renderBooking(
  request: Request,
  h: ResponseToolkit,
  form: Partial<BookingForm>,
  draft: ParticipantInput[],
  problems: FormProblem[] = [],
  /** What the page says above the form: where a copied booking came from, and who was left out. */
  notices: string[] = [],
) {
  const lang = languageOf(request);
  const staff = request.auth.credentials.user!;
  const choices = participantChoices(
    request,
    form,
    draft.some((p) => isPatient(p.kind)),
  );
  // As the meeting page masks it: the full birth date (a ten-digit number gets its century), no last digits.
  const masked = (n?: string) => {
    const parsed = n ? parsePersonalNumber(n) : undefined;
    return parsed?.ok ? maskPersonalNumber(parsed.value) : '';
  };
  return h
    .view('meetings/book', {
      title: t(lang, 'meetings.book.title'),
      styles: ['meetings.css'],
      scripts: ['booking.js'],
      ...choices,
      form: { durationMinutes: 45, date: today(), time: '', ...choices.form },
      draftJson: JSON.stringify(draft),
      draft: draft.map((p, i) => ({
        index: i,
        name: p.kind === 'colleague' ? p.staffEmail : p.name,
        kindLabel: t(lang, `meetings.kind.${p.kind}`),
        contact: [shownMobile(p.mobile, p.country), p.email].filter(Boolean).join(', '),
        identificationLabel: p.identification ? t(lang, `meetings.ident.${p.identification}`) : '',
        personalNumber: masked(p.personalNumber),
        proxyName: p.proxy?.name,
        proxyContact: p.proxy
          ? [shownMobile(p.proxy.mobile, p.proxy.country), p.proxy.email].filter(Boolean).join(', ')
          : '',
      })),
      // The documentation plan is asked for as soon as the form comes back with participants, not only at "Boka".
      missingDocumentation: draft.length > 0 && !(form.documentationPlan ?? '').trim(),
      ...problemsView(problems),
      notices,
      clockChoice: clockChoice(lang, form.date, form.time, form.clock),
      me: staff.name,
      // The language switch sends this form (layouts/layout.hbs): nothing typed is lost, with or without JavaScript.
      langSwitchForm: 'booking-form',
    })
    .code(problems.length > 0 ? 400 : 200);
}
