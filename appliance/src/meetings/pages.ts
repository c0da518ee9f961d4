// The staff pages: the calendar (day and week), the booking form (drawn by booking-form.ts), and
// the meeting page with reschedule and cancel. Server-rendered and usable without JavaScript; the
// client scripts only add inline rule hints and live updates (SSE).
import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { day, lookupYears, meetingYears } from '../http/dates.ts';
import { validationSentences } from '../http/errors.ts';
import {
  isLanguage,
  languageCookie,
  languageOf,
  languages,
  speakChosenLanguage,
  t,
  type Language,
} from '../http/i18n.ts';
import { fieldOf, objectOf, route } from '../http/route.ts';
import { textOf } from '../common/text.ts';
import { openEventStream } from '../http/sse.ts';
import type { Staff } from '../staff/index.ts';
import { displayPhone } from './contacts.ts';
import type { ParticipantFacts } from './facts.ts';
import type { LiveUpdates } from './live.ts';
import {
  bookingForm,
  clockChoice,
  countryChoices,
  clockField,
  participantChoices,
  participantFields,
  type ParticipantFields,
  fieldProblems,
  problemsView,
  fromFields,
  hasParticipant,
  needsIdentityProvider,
  readDraft,
  renderBooking,
  sentDraft,
  type BookingForm,
  type FormProblem,
  type Clock,
} from './booking-form.ts';
import {
  firstTimedChange,
  isJoinable,
  isOver,
  isPatient,
  meetingEnd,
  meetingStatuses,
  participantKinds,
  participantStatusKey,
  tookPart,
  wasHeld,
  type CalendarEntry,
  type Meeting,
  type MeetingStatus,
  type Participant,
  type ParticipantKind,
} from './model.ts';
import { audited, auditBooking, auditChange } from './routes.ts';
import { meetingParams, participantParams, text } from './schemas.ts';
import { checkStart, type ParticipantInput } from './rules.ts';
import { withPatientFirst, type MeetingService } from './service.ts';
import {
  addDays,
  ClinicDays,
  formatDay,
  clinicInstants,
  formatSpan,
  isoWeek,
  mondayOf,
  repeatedHour,
  toClinicTime,
  today,
  weekday,
} from '../common/clock.ts';
import { NotChangeable, NotFound, RuleViolation, TooManyResends, VersionConflict } from './violations.ts';

// A meeting's day is checked like the API's startsAt; the calendar may be browsed further back.
const dateField = day(meetingYears);
const calendarDate = day(lookupYears);
const timeField = Joi.string().pattern(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const staffOf = (request: Request): Staff => request.auth.credentials.user!;
/** The reschedule form's fields by their labels. */
const rescheduleLabels: Record<string, string> = {
  date: 'meetings.meeting.newDate',
  time: 'meetings.meeting.newTime',
  durationMinutes: 'meetings.meeting.newDuration',
};

/**
 * A start typed on the clinic's clock. A time the clock skips (02:00–02:59 the night summer time
 * begins) is refused, not moved an hour on. One it shows twice (the night it ends) is the one the
 * form's `clock` chose, the first in summer time or the second in standard time; without a choice
 * the form asks ('ask'). Every message and page then names it "02:30 (sommartid)" or "02:30
 * (normaltid)" (common/clock.ts).
 */
function clinicStart(date: string, time: string, clock?: string): Date | RuleViolation | 'ask' {
  const [first, second] = clinicInstants(date, time);
  // The time is at fault, not the day: 02:30 is there every other night (both forms mark the time).
  if (!first) return new RuleViolation('time_skipped', 'time', { date, time });
  if (!second || clock === 'summer') return first;
  return clock === 'standard' ? second : 'ask';
}

/**
 * Why a date and time typed into a form were refused: a day the calendar does not have (30
 * February) by its name, a past year as the past, anything else (a field left empty, a year too far
 * ahead) as joi's sentences under the form's labels.
 */
function whenRefused(
  error: Pick<Joi.ValidationError, 'details'>,
  date: string,
  lang: Language,
  labelOf: (field: string) => string | undefined,
): string {
  if (error.details.some((d) => d.type === 'day.calendar')) return t(lang, 'meetings.rule.no_such_date', { date });
  // A year before this one is in the past, as a meeting earlier this year is (rules.ts, checkStart).
  if (error.details.some((d) => d.type === 'day.years' && Number(date.slice(0, 4)) < Number(d.context?.from)))
    return t(lang, 'meetings.rule.starts_in_past');
  return validationSentences(error, lang, labelOf);
}
/**
 * What is wrong with a start typed as a date and a time, every problem at once: each field
 * (whenRefused), or the start they make (a time the clock skips, one it shows twice and not chosen).
 * The start when it can be read. `failed` names fields already said (the booking form's own checks).
 * The booking and reschedule forms both ask this.
 */
function startProblems(
  lang: Language,
  typed: { date?: string; time?: string; clock?: string },
  labelOf: (field: string) => string | undefined,
  failed: ReadonlySet<string> = new Set(),
): { problems: FormProblem[]; startsAt?: Date } {
  const problems: FormProblem[] = [];
  const date = typed.date ?? '';
  const time = typed.time ?? '';
  const when = { date: dateField.required(), time: timeField.required() };
  const { error: badWhen } = Joi.object(when).validate({ date, time }, { abortEarly: false });
  for (const detail of badWhen?.details ?? []) {
    const field = String(detail.path[0]);
    if (failed.has(field)) continue;
    problems.push({ where: 'meeting', message: whenRefused({ details: [detail] }, date, lang, labelOf), field });
  }
  if (badWhen || failed.has('date') || failed.has('time')) return { problems };
  const start = clinicStart(date, time, typed.clock);
  if (start === 'ask')
    problems.push({
      where: 'meeting',
      message: t(lang, 'meetings.rule.time_repeated', { date, time }),
      field: 'clock',
    });
  else if (start instanceof RuleViolation)
    problems.push({ where: 'meeting', message: start.text(lang), field: start.field });
  else return { problems, startsAt: start };
  return { problems };
}

/**
 * Everything wrong with the reschedule form as sent, at once, as the booking form says it: the
 * start (startProblems, and a start already past), then each other field that failed its check
 * (`error`, the route's). The new start when it can be read.
 */
function rescheduleProblems(
  lang: Language,
  sent: { date: string; time: string; clock?: string },
  error?: Error,
): { problems: FormProblem[]; startsAt?: Date } {
  const labelOf = (field: string) => (field in rescheduleLabels ? t(lang, rescheduleLabels[field]!) : undefined);
  const { problems, startsAt } = startProblems(lang, sent, labelOf);
  if (startsAt) {
    try {
      checkStart(startsAt);
    } catch (past) {
      if (!(past instanceof RuleViolation)) throw past;
      problems.push({ where: 'meeting', message: past.text(lang), field: past.field });
    }
  }
  problems.push(...fieldProblems(error, lang, labelOf, ['date', 'time']));
  return { problems, ...(startsAt ? { startsAt } : {}) };
}

const session = { strategy: 'session' } as const;

/** A person's mobile number (readable, and a link to call) and e-mail address, one per line. */
function contactLines(c: { mobile: string | null; email: string | null }): { text: string; tel?: string }[] {
  return [
    ...(c.mobile ? [{ text: displayPhone(c.mobile), tel: `tel:${c.mobile}` }] : []),
    ...(c.email ? [{ text: c.email }] : []),
  ];
}

function participantView(lang: Language, meeting: Meeting, p: Participant, refused?: RefusedContact) {
  // The contact form's fields as they are now (partials/contact-change.hbs), or as sent when refused; a colleague has none.
  const contactForm: ContactForm | undefined =
    p.kind === 'colleague'
      ? undefined
      : refused
        ? refused.form
        : {
            country: p.country,
            mobile: p.mobile ? displayPhone(p.mobile) : '',
            email: p.email ?? '',
            proxyCountry: p.proxy?.country ?? '',
            proxyMobile: p.proxy?.mobile ? displayPhone(p.proxy.mobile) : '',
            proxyEmail: p.proxy?.email ?? '',
          };
  return {
    ...p,
    kindLabel: t(lang, `meetings.kind.${p.kind}`),
    identificationLabel: t(lang, `meetings.ident.${p.identification}`),
    statusLabel: t(lang, participantStatusKey(meeting, p)),
    contact: contactLines(p),
    proxyContact: p.proxy ? contactLines(p.proxy) : [],
    removable: !isPatient(p.kind),
    contactForm,
    ...(contactForm
      ? {
          contactCountries: countryChoices(lang, contactForm.country),
          contactProxyCountries: countryChoices(lang, contactForm.proxyCountry),
        }
      : {}),
    contactInvalid: refused ? refusedContactFields(refused) : {},
  };
}

/** The words the calendar puts beside its meetings, looked up once per language rather than per meeting. */
const calendarWords = Object.fromEntries(
  languages.map((lang) => [
    lang,
    {
      kind: Object.fromEntries(participantKinds.map((k) => [k, t(lang, `meetings.kind.${k}`)])),
      status: Object.fromEntries(meetingStatuses.map((s) => [s, t(lang, `meetings.status.${s}`)])),
      noPatient: t(lang, 'meetings.calendar.noPatient'),
    },
  ]),
) as Record<
  Language,
  { kind: Record<ParticipantKind, string>; status: Record<MeetingStatus, string>; noPatient: string }
>;

/** One meeting in the calendar: what the day column shows of it, and nothing more. */
function calendarItem(lang: Language, days: ClinicDays, m: CalendarEntry, marks: string[]) {
  const words = calendarWords[lang];
  const patient = m.people.find((p) => isPatient(p.kind));
  return {
    id: m.id,
    time: `${days.time(m.startsAt)}–${days.time(meetingEnd(m))}`,
    title: m.title,
    cancelled: m.status === 'cancelled',
    // Said beside a meeting that will not take place (any more): cancelled, or over (shownStatus).
    closed: m.status === 'cancelled' || m.status === 'ended',
    statusLabel: words.status[m.status],
    linkName: patient?.name ?? words.noPatient,
    // The routine: staff join by clicking the patient's name. While the room is open it leads in.
    link: m.status === 'open' || m.status === 'in_progress' ? `/meetings/${m.id}/room` : `/meetings/${m.id}`,
    others: m.people.filter((p) => p !== patient).map((p) => ({ name: p.name, kindLabel: words.kind[p.kind] })),
    marks,
  };
}

async function meetingPage(
  request: Request,
  h: ResponseToolkit,
  meetings: MeetingService,
  facts: ParticipantFacts,
  meeting: Meeting,
  extra: {
    notice?: string;
    /**
     * Every problem a refused change was sent back for, at once, as the booking form says them
     * (FormProblem): the meeting's above the forms, the participant's in the add form, their
     * fields marked. A contact form's field is marked by `contact`.
     */
    problems?: FormProblem[];
    code?: number;
    pageView?: string;
    /** The reschedule form as it was sent, when it comes back to ask which 02:30 or refused: what the clinician typed stays. */
    reschedule?: RescheduleForm;
    /** A participant's contact details as sent when refused, and the field at fault (partials/contact-change.hbs). */
    contact?: RefusedContact;
    /** The participant being added as it was sent, when refused. */
    adding?: Partial<ParticipantFields>;
  } = {},
) {
  const lang = languageOf(request);
  const staff = staffOf(request);
  const start = toClinicTime(meeting.startsAt);
  const reschedule = extra.reschedule ?? { ...start, durationMinutes: meeting.durationMinutes };
  // The night the clocks go back, the reschedule form says which 02:30: the meeting's own, or none
  // yet when the form comes back to ask.
  const clock = extra.reschedule ? undefined : repeatedHour(meeting.startsAt);
  const changeable = meetings.takesChanges(staff, meeting);
  return h
    .view('meetings/meeting', {
      title: meeting.title,
      styles: ['meetings.css'],
      // The add form's fields follow the kind chosen, as on the booking form.
      scripts: changeable ? ['meetings-live.js', 'booking.js'] : ['meetings-live.js'],
      meeting,
      people: await meetings.staffNames(meeting),
      me: meeting.bookedBy === staff.id,
      when: formatSpan(meeting.startsAt, meeting.durationMinutes, lang),
      statusLabel: t(lang, `meetings.status.${meeting.status}`),
      cancelled: meeting.status === 'cancelled',
      ...meetingLinks(staff, meeting, request.server.app.config.roomGraceMinutes),
      changesAt: firstTimedChange([meeting], request.server.app.config.roomGraceMinutes),
      participants: await (async () => {
        const known = await facts.collect(meeting, lang);
        return meeting.participants.map((p) => ({
          ...participantView(lang, meeting, p, extra.contact?.participantId === p.id ? extra.contact : undefined),
          facts: known.get(p.id) ?? [],
        }));
      })(),
      changeable,
      calendarLink: `/calendar?view=week&date=${start.date}`,
      // A meeting ended for its connection is booked again, a follow-up with the same parties too.
      copyLink: staff.role === 'admin' || staff.role === 'clinician' ? `/meetings/new?from=${meeting.id}` : undefined,
      ...(changeable
        ? participantChoices(
            request,
            extra.adding ?? {},
            meeting.participants.some((p) => isPatient(p.kind)),
          )
        : {}),
      notice: extra.notice,
      pageView: extra.pageView,
      ...problemsView(extra.problems ?? []),
      reschedule,
      clockChoice: clockChoice(lang, reschedule.date, reschedule.time, clock),
    })
    .code(extra.code ?? 200);
}

/** The contact form's fields, as typed. */
interface ContactForm {
  country?: string;
  proxyCountry?: string;
  mobile?: string;
  email?: string;
  proxyMobile?: string;
  proxyEmail?: string;
}

interface RefusedContact {
  participantId: string;
  form: ContactForm;
  /** The rule's field (`participant.proxy.mobile`). */
  field?: string;
}

/** The field a refused contact form marks as at fault, by the rule's field. */
function refusedContactFields(refused: RefusedContact): Partial<Record<keyof ContactForm, true>> {
  const fields: Record<string, keyof ContactForm> = {
    'participant.country': 'country',
    'participant.mobile': 'mobile',
    'participant.email': 'email',
    'participant.proxy.country': 'proxyCountry',
    'participant.proxy.mobile': 'proxyMobile',
    'participant.proxy.email': 'proxyEmail',
  };
  const field = refused.field ? fields[refused.field] : undefined;
  return field ? { [field]: true } : {};
}

/**
 * The meeting page's links row: into the room while anyone may still join, else that the meeting
 * is over (a cancelled one says so in its status); the staff member's evaluation; the meeting
 * record once it was held; the connection log for those who read it. `links` is false when there is nothing to show: no empty row.
 */
function meetingLinks(staff: Staff, meeting: Meeting, graceMinutes: number, now = new Date()) {
  const joinable = isJoinable(meeting, graceMinutes, now);
  const over = meeting.status !== 'cancelled' && isOver(meeting, graceMinutes, now);
  // Offered where the evaluation's form is (evaluation/service.ts refuses the rest): to the staff
  // who took part, once the meeting has been held (a cancelled one never was).
  const evaluable = wasHeld(meeting, now) && tookPart(staff.id, meeting);
  const seesLog = staff.role !== 'clinician';
  // Who took part, when and how long: for the clinic's own documentation once the meeting was held.
  const record = wasHeld(meeting, now);
  return { joinable, over, evaluable, seesLog, record, links: joinable || over || evaluable || seesLog || record };
}

/**
 * Why a participant cannot be identified as the form asks here, or nothing: BankID and SITHS need
 * the hospital's identity provider, unless for a colleague, whose SITHS is their staff login.
 */
function identificationUnavailable(
  request: Request,
  lang: Language,
  participant: { kind: string; identification?: string },
): string | undefined {
  const method = participant.identification ?? '';
  if (request.server.app.config.oidc || participant.kind === 'colleague' || !needsIdentityProvider(method))
    return undefined;
  return t(lang, 'meetings.rule.identification_unavailable', { method: t(lang, `meetings.ident.${method}`) });
}

/**
 * Everything wrong with the participant typed into "Lägg till deltagare" (the booking form's, the
 * meeting page's), at once, as the booking form says the meeting's: an identification not to be had
 * here, then every rule `violations` finds (the booking's draft list, the meeting's own).
 */
async function participantProblems(
  request: Request,
  input: ParticipantInput,
  violations: () => Promise<RuleViolation[]>,
): Promise<FormProblem[]> {
  const lang = languageOf(request);
  const unavailable = identificationUnavailable(request, lang, input);
  return [
    ...(unavailable ? [{ where: 'participant' as const, message: unavailable, field: 'p_identification' }] : []),
    ...(await violations())
      // The method not to be had here is said once, as unavailable, not also as not allowed.
      .filter((v) => !(unavailable && v.rule === 'identification_not_allowed'))
      .map((v) => ({ where: 'participant' as const, message: v.text(lang), field: v.field })),
  ];
}

/** The reschedule form's fields as typed (a refused duration may not be a number). */
interface RescheduleForm {
  date: string;
  time: string;
  durationMinutes: number | string;
}

const notices = {
  booked: 'meetings.book.booked',
  rescheduled: 'meetings.meeting.rescheduled',
  cancelled: 'meetings.meeting.cancelled',
  resent: 'meetings.meeting.resent',
  removed: 'meetings.meeting.removed',
  added: 'meetings.meeting.added',
  contact: 'meetings.meeting.contactChanged',
  contactKept: 'meetings.meeting.contactChangedInvitationStands',
} satisfies Record<string, string>;

export function routes(meetings: MeetingService, live: LiveUpdates, facts: ParticipantFacts): ServerRoute[] {
  /** Runs a change from a page; rule violations and conflicts re-render the meeting page with the message. */
  async function changeFromPage(
    request: Request,
    h: ResponseToolkit,
    id: string,
    change: () => Promise<unknown>,
    done: string,
    /** The form as sent, shown again when the change is refused (reschedule). */
    sent?: RescheduleForm,
    /** A contact form as sent, shown again when refused, its field at fault marked. */
    contact?: RefusedContact,
  ) {
    try {
      // A change that turned out to change nothing (the same contact details again) says nothing;
      // one may say what it did in another notice's words (`notices`).
      const outcome = await change();
      if (outcome === 'unchanged') return h.redirect(`/meetings/${id}`);
      return h.redirect(`/meetings/${id}?done=${typeof outcome === 'string' && outcome in notices ? outcome : done}`);
    } catch (error) {
      const lang = languageOf(request);
      if (
        error instanceof RuleViolation ||
        error instanceof VersionConflict ||
        error instanceof NotChangeable ||
        error instanceof TooManyResends
      ) {
        const meeting = await meetings.get(staffOf(request), id);
        await audited(request, 'meeting.read', meeting);
        // The page is drawn again from the meeting as it is now (its version included): the change
        // can be made again from it, no reload needed (a reload would lose what was typed).
        const message =
          error instanceof RuleViolation
            ? error.text(lang)
            : error instanceof VersionConflict
              ? t(lang, 'meetings.conflictOnPage')
              : error.toBoom(lang).message;
        const code = error instanceof RuleViolation ? 400 : error instanceof TooManyResends ? 429 : 409;
        // The reschedule form's field at fault is marked with the problem; a contact form's by `contact`.
        const field = sent && error instanceof RuleViolation ? error.field : undefined;
        return meetingPage(request, h, meetings, facts, meeting, {
          problems: [{ where: 'meeting', message, ...(field ? { field } : {}) }],
          code,
          ...(sent ? { reschedule: sent } : {}),
          ...(contact
            ? { contact: { ...contact, field: error instanceof RuleViolation ? error.field : undefined } }
            : {}),
        });
      }
      throw error;
    }
  }

  /** Asks before a change that tells every participant (or removes one): nothing changes until "yes". */
  async function confirmPage(
    request: Request,
    h: ResponseToolkit,
    id: string,
    ask: (meeting: Meeting) => { question: string; yes: string },
    fields: Record<string, string | number>,
  ) {
    const meeting = await meetings.get(staffOf(request), id);
    await audited(request, 'meeting.read', meeting);
    return h.view('meetings/confirm', {
      title: t(languageOf(request), 'meetings.confirm.title'),
      styles: ['meetings.css'],
      meeting,
      action: request.path,
      fields: Object.entries(fields).map(([name, value]) => ({ name, value })),
      ...ask(meeting),
    });
  }

  /** The booking form again as it was sent, in the language the switch chose, which is kept from now on. */
  function switchedLanguage(
    request: Request,
    h: ResponseToolkit,
    form: Partial<BookingForm>,
    draft: ParticipantInput[],
    chosen: Language,
  ) {
    speakChosenLanguage(request, chosen);
    return renderBooking(request, h, form, draft).state(languageCookie, chosen);
  }

  /**
   * Adds the participant typed into "Lägg till deltagare" to the draft list when the rules take
   * them (the patient put first), or says everything wrong with them.
   */
  async function addToDraft(request: Request, form: BookingForm, draft: ParticipantInput[]): Promise<FormProblem[]> {
    const next = fromFields(form);
    const problems = await participantProblems(request, next, () =>
      meetings.draftViolations(staffOf(request), draft, next),
    );
    if (problems.length > 0) return problems;
    draft.push(next);
    draft.splice(0, draft.length, ...withPatientFirst(draft));
    return [];
  }

  /**
   * Everything wrong with the meeting's own fields of a booking, at once: the date and time (each
   * field, or the start they make: a time the clock skips, one it shows twice, a start past), the
   * title, the leader, the documentation plan, and that someone is invited. `failed` names fields
   * that already failed their check (bookingRefused): said once. The start, when it could be read.
   */
  async function meetingProblems(
    request: Request,
    form: Partial<Record<'title' | 'date' | 'time' | 'clock' | 'ledBy' | 'documentationPlan', string>>,
    draft: ParticipantInput[],
    failed: ReadonlySet<string> = new Set(),
  ): Promise<{ problems: FormProblem[]; startsAt?: Date }> {
    const lang = languageOf(request);
    const { problems, startsAt } = startProblems(
      lang,
      form,
      (name) => (name === 'date' || name === 'time' ? t(lang, `meetings.book.${name}`) : undefined),
      failed,
    );
    const violations = await meetings.meetingViolations(staffOf(request), {
      title: form.title ?? '',
      documentationPlan: form.documentationPlan ?? '',
      ledBy: form.ledBy?.trim() || undefined,
      participants: draft,
      ...(startsAt ? { startsAt } : {}),
    });
    for (const violation of violations)
      if (!violation.field || !failed.has(violation.field))
        problems.push({ where: 'meeting', message: violation.text(lang), field: violation.field });
    return { problems, ...(startsAt ? { startsAt } : {}) };
  }

  /**
   * The booking form as the clinician sent it when fields fail their checks: everything typed is
   * shown again, the participants added so far included, with every field that failed named by its
   * label, and on "Boka mötet" whatever else is wrong with the meeting's fields beside them.
   */
  async function bookingRefused(request: Request, h: ResponseToolkit, error: Error | undefined) {
    const lang = languageOf(request);
    const sent = (request.payload ?? {}) as Partial<BookingForm>;
    const draft = sentDraft(sent);
    const chosen = fieldOf(sent, 'lang');
    if (isLanguage(chosen)) return switchedLanguage(request, h, sent, draft, chosen).takeover();
    const problems = fieldProblems(error, lang);
    if (sent.action !== 'add') {
      const failed = new Set(problems.map((p) => p.field ?? ''));
      const typed = (name: string) => textOf(fieldOf(sent, name));
      const fields = ['title', 'date', 'time', 'clock', 'ledBy', 'documentationPlan'] as const;
      const more = await meetingProblems(
        request,
        Object.fromEntries(fields.filter((f) => !failed.has(f)).map((f) => [f, typed(f)])),
        draft,
        failed,
      );
      problems.push(...more.problems);
    }
    return renderBooking(request, h, sent, draft, problems).takeover();
  }

  const version = Joi.number().integer().min(1).required();
  const confirm = Joi.string<'yes'>().valid('yes');

  return [
    route({
      method: 'GET',
      path: '/calendar',
      options: {
        auth: session,
        validate: {
          query: objectOf<{ view: 'day' | 'week'; date?: string }>({
            view: Joi.string<'day' | 'week'>().valid('day', 'week').default('day'),
            date: calendarDate,
          }),
        },
      },
      handler: async (request, h) => {
        const lang = languageOf(request);
        const staff = staffOf(request);
        const { view, date: chosen } = request.query;
        const now = today();
        const date = chosen ?? now;
        const first = view === 'week' ? mondayOf(date) : date;
        const days = new ClinicDays(first, view === 'week' ? 7 : 1);
        const list = await meetings.calendar(staff, { from: days.from, to: days.to });
        await request.audit('meeting.list', {
          targetType: 'meeting',
          details: { from: first, days: days.dates.length, meetingIds: list.map((m) => m.id) },
        });
        const marks = await facts.marks(
          list.map((m) => m.id),
          lang,
        );
        const columns = days.dates.map((day) => ({
          date: day,
          label: formatDay(day, lang),
          isToday: day === now,
          weekend: weekday(day) >= 5,
          meetings: [] as ReturnType<typeof calendarItem>[],
        }));
        // The list is in the period and ordered by start: each meeting goes to its day in turn.
        for (const m of list)
          columns[days.dayOf(m.startsAt)]?.meetings.push(calendarItem(lang, days, m, marks.get(m.id) ?? []));
        const step = view === 'week' ? 7 : 1;
        return h.view('meetings/calendar', {
          title: t(lang, 'meetings.calendar.title'),
          styles: ['meetings.css'],
          scripts: ['meetings-live.js'],
          view,
          isWeek: view === 'week',
          heading:
            view === 'week'
              ? t(lang, 'meetings.calendar.weekNumber', { week: isoWeek(first) })
              : formatDay(first, lang),
          days: columns,
          changesAt: firstTimedChange(list, request.server.app.config.roomGraceMinutes),
          date,
          previous: addDays(date, -step),
          next: addDays(date, step),
          canBook: staff.role !== 'support',
        });
      },
    }),
    route({
      method: 'GET',
      path: '/calendar/events',
      options: { auth: session },
      handler(request, h) {
        const staff = staffOf(request);
        const { response, stream } = openEventStream(request, h, { onClose: () => unsubscribe() });
        const unsubscribe = live.subscribe(
          stream,
          // What the calendar lists: a clinician's unit, and their own meetings in any unit.
          staff.role === 'clinician' ? { unitId: staff.unitId, staffId: staff.id } : { allUnits: true },
        );
        return response;
      },
    }),
    route({
      method: 'GET',
      path: '/meetings/new',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: { query: objectOf<{ from?: string }>({ from: Joi.string().guid() }) },
      },
      async handler(request, h) {
        const { from } = request.query;
        if (!from) return renderBooking(request, h, {}, []);
        // A new booking with another meeting's people: its personal numbers are read, so audited.
        const copy = await meetings.copyForBooking(staffOf(request), from);
        await audited(request, 'meeting.copy', copy.meeting);
        const lang = languageOf(request);
        const { title, durationMinutes, documentationPlan, startsAt } = copy.meeting;
        const notices = [t(lang, 'meetings.book.copied', { title, when: formatSpan(startsAt, durationMinutes, lang) })];
        if (copy.left.length > 0) notices.push(t(lang, 'meetings.book.copyLeft', { names: copy.left.join(', ') }));
        return renderBooking(
          request,
          h,
          { title, durationMinutes, documentationPlan, ledBy: copy.ledBy },
          copy.draft,
          [],
          notices,
        );
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/new',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          payload: bookingForm,
          // Every field that fails its check, not the first alone (bookingRefused).
          options: { abortEarly: false },
          failAction: (request, h, error) => bookingRefused(request, h, error),
        },
      },
      handler: async (request, h) => {
        const staff = staffOf(request);
        const form = request.payload;
        const draft = readDraft(form.draft);
        // The language switch: the form as it was typed, unchecked, in the language chosen.
        if (form.lang) return switchedLanguage(request, h, form, draft, form.lang);
        const clearParticipant = (f: BookingForm): Partial<BookingForm> =>
          Object.fromEntries(Object.entries(f).filter(([k]) => !k.startsWith('p_') || k === 'p_country'));
        if (form.remove !== undefined) {
          draft.splice(form.remove, 1);
          return renderBooking(request, h, { ...form, p_kind: undefined, p_identification: undefined }, draft);
        }
        // The participant typed into "Lägg till deltagare" joins the list, or says what is wrong with it.
        const addProblems = hasParticipant(form) ? await addToDraft(request, form, draft) : [];
        if (form.action === 'add')
          return addProblems.length > 0
            ? renderBooking(request, h, form, draft, addProblems)
            : renderBooking(request, h, clearParticipant(form), draft);
        // "Boka mötet": everything wrong is said at once, each field at fault marked.
        const { problems, startsAt } = await meetingProblems(request, form, draft);
        problems.unshift(...addProblems);
        const shown = addProblems.length > 0 ? form : clearParticipant(form);
        if (problems.length > 0 || !startsAt) return renderBooking(request, h, shown, draft, problems);
        try {
          const meeting = await meetings.book(
            staff,
            {
              title: form.title,
              startsAt,
              durationMinutes: form.durationMinutes,
              ledBy: form.ledBy.trim() || undefined,
              documentationPlan: form.documentationPlan,
              testMeeting: form.testMeeting !== undefined && form.testMeeting !== '',
              participants: draft,
            },
            auditBooking(request),
          );
          return h.redirect(`/meetings/${meeting.id}?done=booked`);
        } catch (error) {
          if (!(error instanceof RuleViolation)) throw error;
          return renderBooking(request, h, shown, draft, [
            { where: 'meeting', message: error.text(languageOf(request)), field: error.field },
          ]);
        }
      },
    }),
    route({
      method: 'GET',
      path: '/meetings/{id}',
      options: {
        auth: session,
        validate: {
          params: meetingParams,
          query: objectOf<{ done?: keyof typeof notices }>({
            done: Joi.string<keyof typeof notices>().valid(...Object.keys(notices)),
          }),
        },
      },
      handler: async (request, h) => {
        const meeting = await meetings.get(staffOf(request), request.params.id);
        // One record per view: the page's live refreshes present the view's token (audit/page-views.ts).
        const pageView = await request.auditPageView('meeting.read', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
        });
        const done = request.query.done;
        return meetingPage(request, h, meetings, facts, meeting, {
          notice: done ? t(languageOf(request), notices[done]) : undefined,
          pageView,
        });
      },
    }),
    route({
      method: 'GET',
      path: '/meetings/{id}/events',
      options: { auth: session, validate: { params: meetingParams } },
      handler: async (request, h) => {
        const meeting = await meetings.get(staffOf(request), request.params.id);
        const { response, stream } = openEventStream(request, h, {
          onClose: () => unsubscribe(),
          stillAllowed: (staff) => meetings.sees(staff, meeting.id),
        });
        const unsubscribe = live.subscribe(stream, { meetingId: meeting.id });
        return response;
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/reschedule',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          params: meetingParams,
          payload: objectOf<{
            crumb?: string;
            version: number;
            date: string;
            time: string;
            durationMinutes: number;
            clock?: Clock | '';
            confirm?: 'yes';
          }>({
            crumb: Joi.string(),
            version,
            date: dateField.required(),
            time: timeField.required(),
            durationMinutes: Joi.number().integer().min(5).max(480).required(),
            clock: clockField,
            confirm,
          }),
          // Shown on the meeting page, where the form is, rather than as an error page of its own.
          failAction: async (request, h, error) => {
            const meeting = await meetings.get(staffOf(request), String(request.params.id));
            await audited(request, 'meeting.read', meeting);
            const typed = (name: string) => textOf(fieldOf(request.payload, name));
            const sent = { date: typed('date'), time: typed('time'), durationMinutes: typed('durationMinutes') };
            const { problems } = rescheduleProblems(languageOf(request), { ...sent, clock: typed('clock') }, error);
            return (
              await meetingPage(request, h, meetings, facts, meeting, { problems, code: 400, reschedule: sent })
            ).takeover();
          },
        },
      },
      handler: async (request, h) => {
        const lang = languageOf(request);
        const id = request.params.id;
        const form = request.payload;
        const sent = { date: form.date, time: form.time, durationMinutes: form.durationMinutes };
        const { problems, startsAt } = rescheduleProblems(lang, form);
        const current = await meetings.get(staffOf(request), id);
        // The same time again changes nothing and tells nobody: say so instead of "moved" (or "past").
        if (startsAt?.getTime() === current.startsAt.getTime() && form.durationMinutes === current.durationMinutes) {
          await audited(request, 'meeting.read', current);
          return meetingPage(request, h, meetings, facts, current, {
            notice: t(lang, 'meetings.meeting.sameTime', {
              when: formatSpan(current.startsAt, current.durationMinutes, lang),
            }),
          });
        }
        // Refused before the clinician is asked to confirm it (a start already past too), not after.
        if (problems.length > 0 || !startsAt) {
          await audited(request, 'meeting.read', current);
          return meetingPage(request, h, meetings, facts, current, { problems, code: 400, reschedule: sent });
        }
        if (!form.confirm) {
          return confirmPage(
            request,
            h,
            id,
            (meeting) => ({
              question: t(lang, 'meetings.confirm.reschedule', {
                title: meeting.title,
                from: formatSpan(meeting.startsAt, meeting.durationMinutes, lang),
                to: formatSpan(startsAt, form.durationMinutes, lang),
              }),
              yes: t(lang, 'meetings.confirm.yesReschedule'),
            }),
            {
              version: form.version,
              date: form.date,
              time: form.time,
              durationMinutes: form.durationMinutes,
              ...(form.clock ? { clock: form.clock } : {}),
            },
          );
        }
        return changeFromPage(
          request,
          h,
          id,
          async () => {
            await meetings.update(
              staffOf(request),
              id,
              { version: form.version, startsAt, durationMinutes: form.durationMinutes },
              auditChange(request, 'meeting.update', id),
            );
          },
          'rescheduled',
          sent,
        );
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/cancel',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          params: meetingParams,
          payload: objectOf<{ crumb?: string; version: number; reason: string; confirm?: 'yes' }>({
            crumb: Joi.string(),
            version,
            reason: text(500).required(),
            confirm,
          }),
        },
      },
      handler: async (request, h) => {
        const lang = languageOf(request);
        const id = request.params.id;
        const form = request.payload;
        if (!form.confirm && form.reason.trim()) {
          return confirmPage(
            request,
            h,
            id,
            (meeting) => ({
              question: t(lang, 'meetings.confirm.cancel', {
                title: meeting.title,
                when: formatSpan(meeting.startsAt, meeting.durationMinutes, lang),
                reason: form.reason.trim(),
              }),
              yes: t(lang, 'meetings.confirm.yesCancel'),
            }),
            { version: form.version, reason: form.reason },
          );
        }
        return changeFromPage(
          request,
          h,
          id,
          async () => {
            await meetings.cancel(
              staffOf(request),
              id,
              form.version,
              form.reason,
              auditChange(request, 'meeting.cancel', id),
            );
          },
          'cancelled',
        );
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/participants/add',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          params: meetingParams,
          payload: objectOf<ParticipantFields & { crumb?: string; version: number }>({
            crumb: Joi.string(),
            version,
            ...participantFields,
          }),
          // Every field that fails its check, not the first alone, as the booking form says them.
          options: { abortEarly: false },
          // What was typed comes back with the reasons, on the meeting page where the form is.
          failAction: async (request, h, error) => {
            const meeting = await meetings.get(staffOf(request), String(request.params.id));
            await audited(request, 'meeting.read', meeting);
            const adding = (request.payload ?? {}) as Partial<ParticipantFields>;
            const problems = fieldProblems(error, languageOf(request));
            return (
              await meetingPage(request, h, meetings, facts, meeting, { adding, problems, code: 400 })
            ).takeover();
          },
        },
      },
      handler: async (request, h) => {
        const lang = languageOf(request);
        const staff = staffOf(request);
        const { id } = request.params;
        const form = request.payload;
        const { version } = form;
        const input = fromFields(form);
        const refused = async (problems: FormProblem[], code = 400) => {
          const meeting = await meetings.get(staff, id);
          await audited(request, 'meeting.read', meeting);
          return meetingPage(request, h, meetings, facts, meeting, { adding: form, problems, code });
        };
        try {
          // Everything wrong with the participant at once; the change itself refuses on the first
          // rule (the meeting changed meanwhile).
          const problems = await participantProblems(request, input, () =>
            meetings.participantViolations(staff, id, input),
          );
          if (problems.length > 0) return refused(problems);
          await meetings.addParticipant(staff, id, version, input, auditChange(request, 'participant.add', id));
        } catch (error) {
          if (error instanceof RuleViolation)
            return refused([{ where: 'participant', message: error.text(lang), field: error.field }]);
          if (error instanceof VersionConflict)
            return refused([{ where: 'participant', message: t(lang, 'meetings.conflictOnPage') }], 409);
          // The add form is no longer on the page: said above it, where every refused change is.
          if (error instanceof NotChangeable)
            return changeFromPage(request, h, id, () => Promise.reject(error), 'added');
          throw error;
        }
        return h.redirect(`/meetings/${id}?done=added`);
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/participants/{participantId}/remove',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          params: participantParams,
          payload: objectOf<{ crumb?: string; version: number; confirm?: 'yes' }>({
            crumb: Joi.string(),
            version,
            confirm,
          }),
        },
      },
      handler: async (request, h) => {
        const lang = languageOf(request);
        const { id, participantId } = request.params;
        const form = request.payload;
        if (!form.confirm) {
          return confirmPage(
            request,
            h,
            id,
            (meeting) => {
              const participant = meeting.participants.find((p) => p.id === participantId);
              if (!participant) throw new NotFound('participant');
              return {
                question: t(lang, 'meetings.confirm.remove', { name: participant.name }),
                yes: t(lang, 'meetings.confirm.yesRemove'),
              };
            },
            { version: form.version },
          );
        }
        return changeFromPage(
          request,
          h,
          id,
          async () => {
            await meetings.removeParticipant(
              staffOf(request),
              id,
              participantId,
              form.version,
              auditChange(request, 'participant.remove', id, participantId),
            );
          },
          'removed',
        );
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/participants/{participantId}/contact',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          params: participantParams,
          payload: objectOf<{
            crumb?: string;
            version: number;
            country?: string;
            mobile?: string;
            email?: string;
            proxyCountry?: string;
            proxyMobile?: string;
            proxyEmail?: string;
          }>({
            crumb: Joi.string(),
            version,
            country: Joi.string().max(2).allow(''),
            proxyCountry: Joi.string().max(2).allow(''),
            mobile: text(32),
            email: text(254),
            proxyMobile: text(32),
            proxyEmail: text(254),
          }),
        },
      },
      handler: async (request, h) => {
        const { id, participantId } = request.params;
        const { version, crumb: _crumb, ...form } = request.payload;
        // The form sends every field it shows: an empty one is a number or address taken away.
        // The country each number is read for, as the form chose it (the one booked when it sends none).
        const proxy =
          form.proxyMobile !== undefined || form.proxyEmail !== undefined
            ? { country: form.proxyCountry, mobile: form.proxyMobile ?? '', email: form.proxyEmail ?? '' }
            : undefined;
        const input = {
          country: form.country,
          mobile: form.mobile ?? '',
          email: form.email ?? '',
          ...(proxy ? { proxy } : {}),
        };
        return changeFromPage(
          request,
          h,
          id,
          async () => {
            const audit = auditChange(request, 'participant.contact', id, participantId);
            // Whether a new invitation follows: not when only the e-mail address beside an unchanged
            // mobile number changed (the invitation and its link stand), and the notice says which.
            let reinvited = false;
            const changed = await meetings.changeContact(
              staffOf(request),
              id,
              participantId,
              version,
              input,
              (trx, changes) => {
                reinvited = changes.some((c) => c.type === 'invitation.resend');
                return audit(trx, changes);
              },
            );
            return changed.version === version ? 'unchanged' : reinvited ? 'contact' : 'contactKept';
          },
          'contact',
          undefined,
          { participantId, form },
        );
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/participants/{participantId}/resend',
      options: {
        auth: { ...session, scope: ['admin', 'clinician'] },
        validate: {
          params: participantParams,
          payload: objectOf<{ crumb?: string; version: number }>({ crumb: Joi.string(), version }),
        },
      },
      handler: async (request, h) => {
        const { id, participantId } = request.params;
        const { version } = request.payload;
        return changeFromPage(
          request,
          h,
          id,
          async () => {
            await meetings.resendInvitation(
              staffOf(request),
              id,
              participantId,
              version,
              auditChange(request, 'invitation.resend', id, participantId),
            );
          },
          'resent',
        );
      },
    }),
  ];
}
