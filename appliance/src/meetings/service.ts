// Booking and changing meetings: who may see and change what, the routine's rules, one transaction
// per change with its recorded event and the onChange hooks, and the bus event after commit.
import type { Config } from '../config.ts';
import { countAttempt } from '../db/counters.ts';
import type { Db } from '../db/knex.ts';
import type { EventBus } from '../events.ts';
import type { Staff } from '../staff/index.ts';
import type { ChangeHook, MeetingChange, Within, WithinStatus } from './events.ts';
import {
  closedAs,
  invitedAtSame,
  isPatient,
  shownStatus,
  type CalendarEntry,
  type Meeting,
  type NewParticipant,
  type Participant,
  type ParticipantKind,
  type ParticipantStatus,
} from './model.ts';
import {
  checkContactChange,
  checkParticipant,
  checkParticipantList,
  checkSomeoneInvited,
  readParticipant,
  type ContactChangeInput,
  checkStart,
  checkText,
  type Directory,
  type ParticipantInput,
} from './rules.ts';
import * as store from './store.ts';
import { Forbidden, NotChangeable, NotFound, RuleViolation, TooManyResends, VersionConflict } from './violations.ts';
import { must } from '../common/must.ts';

/** Re-sent invitations per participant and hour: enough for a lost SMS, not a flood of them. */
export const resendsPerHour = 5;

export interface BookingInput {
  unitId?: string;
  title: string;
  startsAt: Date;
  durationMinutes: number;
  /** Who runs the meeting (staff id or e-mail); the booking clinician when left out. */
  ledBy?: string;
  documentationPlan: string;
  testMeeting?: boolean;
  participants: ParticipantInput[];
}

export interface MeetingUpdate {
  version: number;
  title?: string;
  startsAt?: Date;
  durationMinutes?: number;
  ledBy?: string;
  documentationPlan?: string;
}

export interface ListQuery {
  from: Date;
  to: Date;
  unitId?: string;
  clinicianId?: string;
}

/** The longest period one list may cover: a quarter. */
const maxPeriodDays = 92;

/**
 * Support reads what the connection logs need: who, when, how far they came; no contact details
 * (participants' numbers and addresses, also those their messages went to).
 */
export const seesContactDetails = (staff: Staff): boolean => staff.role !== 'support';

function forSupport(meeting: Meeting): Meeting {
  const hide = (p: Participant): Participant => ({
    ...p,
    mobile: null,
    email: null,
    personalNumberMasked: null,
    proxy: p.proxy ? { ...p.proxy, mobile: null, email: null, personalNumberMasked: null } : null,
  });
  return { ...meeting, documentationPlan: '', participants: meeting.participants.map(hide) };
}

const isOwnMeeting = (staff: Staff, meeting: Meeting): boolean =>
  meeting.unitId === staff.unitId || meeting.bookedBy === staff.id || meeting.ledBy === staff.id;

/** The list as the routine orders it: the patient (if they take part) first, the others as added. */
export function withPatientFirst<T extends { kind: ParticipantKind }>(participants: T[]): T[] {
  return [...participants.filter((p) => isPatient(p.kind)), ...participants.filter((p) => !isPatient(p.kind))];
}

export class MeetingService {
  readonly #hooks: ChangeHook[] = [];

  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'dataKey' | 'maxParticipants' | 'roomGraceMinutes'>,
    private readonly bus: EventBus,
    private readonly directory: Directory & { unitExists(id: string): Promise<boolean> },
  ) {}

  /** Registers work that must commit or roll back with every change (e.g. outbox rows). */
  onChange(hook: ChangeHook): void {
    this.#hooks.push(hook);
  }

  canRead(staff: Staff, meeting: Meeting): boolean {
    if (staff.role === 'admin' || staff.role === 'support') return true;
    return isOwnMeeting(staff, meeting) || meeting.participants.some((p) => p.staffId === staff.id);
  }

  canChange(staff: Staff, meeting: Meeting): boolean {
    if (staff.role === 'admin') return true;
    return staff.role === 'clinician' && isOwnMeeting(staff, meeting);
  }

  /**
   * Whether this staff member may change the meeting as it is now: theirs to change, and not closed
   * (cancelled, ended, or its time over). The meeting page offers its forms by this; every change checks it.
   */
  takesChanges(staff: Staff, meeting: Meeting, now = new Date()): boolean {
    return this.canChange(staff, meeting) && closedAs(meeting, this.config.roomGraceMinutes, now) === undefined;
  }

  /** What this staff member may see of the meeting, its status as people read it (shownStatus). */
  view(staff: Staff, meeting: Meeting, now = new Date()): Meeting {
    const shown = { ...meeting, status: shownStatus(meeting, this.config.roomGraceMinutes, now) };
    return seesContactDetails(staff) ? shown : forSupport(shown);
  }

  /**
   * Whether this staff member may still read the meeting, as it is now: a live page's check after a
   * change (a colleague removed from it). A refusal here is not an access tried: nothing is audited.
   */
  async sees(staff: Staff, id: string): Promise<boolean> {
    const meeting = await store.findMeeting(this.db, id);
    return meeting !== undefined && this.canRead(staff, meeting);
  }

  async get(staff: Staff, id: string): Promise<Meeting> {
    const meeting = await store.findMeeting(this.db, id);
    if (!meeting) throw new NotFound('meeting');
    if (!this.canRead(staff, meeting)) throw new Forbidden(meeting.id);
    return this.view(staff, meeting);
  }

  /**
   * The period this staff member may list: the others any unit's; a clinician what they may read
   * (`canRead`) - their own unit's meetings and those of any unit they booked, lead or take part
   * in (moved to another unit, they still see the meetings they arranged) - or, asked for their
   * unit by name, that unit's alone.
   */
  #period(staff: Staff, query: ListQuery): store.Period {
    if (query.to <= query.from || query.to.getTime() - query.from.getTime() > maxPeriodDays * 86400000) {
      throw new RuleViolation('period_invalid', 'to', { days: maxPeriodDays });
    }
    const period = { from: query.from, to: query.to, unitId: query.unitId, staffId: query.clinicianId };
    if (staff.role !== 'clinician') return period;
    if (query.unitId && query.unitId !== staff.unitId) throw new Forbidden(undefined, query.unitId);
    return { ...period, unitId: staff.unitId, ...(query.unitId ? {} : { orOf: staff.id }) };
  }

  async list(staff: Staff, query: ListQuery): Promise<Meeting[]> {
    const meetings = await store.listMeetings(this.db, this.#period(staff, query));
    return meetings.map((m) => this.view(staff, m));
  }

  /** The same period as `list`, with only what the calendar shows (no contact data for anyone). */
  async calendar(staff: Staff, query: ListQuery, now = new Date()): Promise<CalendarEntry[]> {
    const entries = await store.listCalendar(this.db, this.#period(staff, query));
    for (const entry of entries) entry.status = shownStatus(entry, this.config.roomGraceMinutes, now);
    return entries;
  }

  async #leader(host: Staff, unitId: string, ledBy: string | undefined): Promise<string> {
    if (!ledBy) return host.id;
    const leader = ledBy.includes('@')
      ? await this.directory.byEmail(ledBy.trim().toLowerCase())
      : await this.directory.byId(ledBy);
    // The leader runs the meeting for the unit: a working account of that unit (or the host).
    if (!leader || leader.disabled || (leader.id !== host.id && leader.unitId !== unitId))
      throw new RuleViolation('leader_unknown', 'ledBy', { who: ledBy });
    return leader.id;
  }

  /**
   * Every rule the meeting's own fields break, not only the first: the title, the documentation
   * plan, the start (when there is one to check), the leader and that someone is invited. The
   * booking form shows them all at once; `book` checks the same and refuses on the first.
   */
  async meetingViolations(
    host: Staff,
    input: Pick<BookingInput, 'title' | 'documentationPlan' | 'ledBy' | 'participants'> & { startsAt?: Date },
    now = new Date(),
  ): Promise<RuleViolation[]> {
    const found: RuleViolation[] = [];
    const check = async (rule: () => unknown) => {
      try {
        await rule();
      } catch (error) {
        if (!(error instanceof RuleViolation)) throw error;
        found.push(error);
      }
    };
    const { startsAt } = input;
    await check(() => checkText(input.title, 'title_required', 'title'));
    if (startsAt) await check(() => checkStart(startsAt, now));
    await check(() => this.#leader(host, host.unitId, input.ledBy));
    await check(() => checkText(input.documentationPlan, 'documentation_required', 'documentationPlan'));
    await check(() => checkSomeoneInvited(input.participants));
    return found;
  }

  async book(host: Staff, input: BookingInput, within?: Within, now = new Date()): Promise<Meeting> {
    if (host.role !== 'admin' && host.role !== 'clinician') throw new Forbidden();
    const unitId = input.unitId ?? host.unitId;
    if (unitId !== host.unitId) {
      if (host.role !== 'admin') throw new Forbidden(undefined, unitId);
      if (!(await this.directory.unitExists(unitId))) throw new RuleViolation('unit_unknown', 'unitId');
    }
    const title = checkText(input.title, 'title_required', 'title');
    const documentationPlan = checkText(input.documentationPlan, 'documentation_required', 'documentationPlan');
    checkStart(input.startsAt, now);
    const ledBy = await this.#leader(host, unitId, input.ledBy);
    const participants: NewParticipant[] = [];
    for (const [i, p] of input.participants.entries())
      participants.push(await checkParticipant(p, `participants.${i}`, host, this.directory));
    checkParticipantList(participants, this.config.maxParticipants);

    const change = await this.db.transaction(async (trx): Promise<MeetingChange> => {
      const id = await store.insertMeeting(
        trx,
        {
          unitId,
          title,
          startsAt: input.startsAt,
          durationMinutes: input.durationMinutes,
          bookedBy: host.id,
          ledBy,
          documentationPlan,
          testMeeting: input.testMeeting ?? false,
        },
        now,
      );
      const participantIds = await store.insertParticipants(trx, id, participants, 0, this.config.dataKey, now);
      const booked: MeetingChange = {
        type: 'meeting.booked',
        payload: {
          meetingId: id,
          unitId,
          byStaffId: host.id,
          startsAt: input.startsAt.toISOString(),
          durationMinutes: input.durationMinutes,
          participantIds,
        },
      };
      await this.#record(trx, [booked]);
      await within?.(trx, [booked]);
      return booked;
    });
    this.bus.emit(change.type, change.payload);
    const meetingId = change.payload.meetingId;
    return (await store.findMeeting(this.db, meetingId))!;
  }

  async #record(trx: Parameters<ChangeHook>[0], changes: MeetingChange[]): Promise<void> {
    for (const change of changes) {
      await store.insertChange(trx, change);
      for (const hook of this.#hooks) await hook(trx, change);
    }
  }

  /**
   * The frame of every change to an existing meeting: one transaction that checks access,
   * status and version, does the work, raises the version (unless only an invitation is resent),
   * records the events and runs the hooks, the work's `lastly` and the caller's `within`; then the
   * events go on the bus.
   *
   * The order rows are written in is the order PostgreSQL locks them in: the meeting's row, then
   * what the hooks write (a person's messages), then a participant's own row. The outbox's batch
   * takes a person's messages before their participant row too (a sent invitation moves their
   * status); a transaction taking the two the other way round waits for it in a circle, which
   * PostgreSQL ends by failing one of them as a deadlock. A change to a participant's own row
   * therefore goes in `lastly`; the changes in `afterwards` are recorded after it, their hooks reading
   * the row as `lastly` left it (a corrected address: its invitation goes to the new one).
   */
  async #change(
    staff: Staff,
    meetingId: string,
    version: number | undefined,
    within: Within | undefined,
    work: (
      trx: Parameters<ChangeHook>[0],
      meeting: Meeting,
    ) => Promise<{
      columns?: store.MeetingColumns;
      changes: MeetingChange[];
      lastly?: () => Promise<void>;
      afterwards?: MeetingChange[];
    }>,
  ): Promise<Meeting> {
    const changes = await this.db.transaction(async (trx) => {
      const meeting = await store.findMeeting(trx, meetingId);
      if (!meeting) throw new NotFound('meeting');
      if (!this.canChange(staff, meeting)) throw new Forbidden(meeting.id);
      const closed = closedAs(meeting, this.config.roomGraceMinutes);
      if (closed) throw new NotChangeable(closed);
      if (version !== undefined && version !== meeting.version) throw new VersionConflict(meeting.version);
      const result = await work(trx, meeting);
      const unchanged = result.columns === undefined && result.changes.every((c) => c.type === 'invitation.resend');
      if (!unchanged && !(await store.updateMeeting(trx, meetingId, meeting.version, result.columns ?? {}))) {
        const current = await store.findMeeting(trx, meetingId);
        throw new VersionConflict(current?.version ?? meeting.version);
      }
      await this.#record(trx, result.changes);
      await result.lastly?.();
      const changes = [...result.changes, ...(result.afterwards ?? [])];
      await this.#record(trx, result.afterwards ?? []);
      await within?.(trx, changes);
      return changes;
    });
    for (const change of changes) this.bus.emit(change.type, change.payload);
    return (await store.findMeeting(this.db, meetingId))!;
  }

  async update(
    staff: Staff,
    meetingId: string,
    input: MeetingUpdate,
    within?: Within,
    now = new Date(),
  ): Promise<Meeting> {
    // Directory look-ups happen before the transaction: SQLite has one connection, which it holds.
    let ledBy: string | undefined;
    if (input.ledBy !== undefined) {
      const meeting = await store.findMeeting(this.db, meetingId);
      if (!meeting) throw new NotFound('meeting');
      if (!this.canChange(staff, meeting)) throw new Forbidden(meeting.id);
      ledBy = await this.#leader(staff, meeting.unitId, input.ledBy);
    }
    return this.#change(staff, meetingId, input.version, within, async (_trx, meeting) => {
      const columns: store.MeetingColumns = {};
      const base = { meetingId, unitId: meeting.unitId, byStaffId: staff.id };
      if (input.title !== undefined) columns.title = checkText(input.title, 'title_required', 'title');
      if (input.documentationPlan !== undefined)
        columns.documentationPlan = checkText(input.documentationPlan, 'documentation_required', 'documentationPlan');
      if (ledBy !== undefined) columns.ledBy = ledBy;
      const startsAt = input.startsAt ?? meeting.startsAt;
      const durationMinutes = input.durationMinutes ?? meeting.durationMinutes;
      const rescheduled =
        startsAt.getTime() !== meeting.startsAt.getTime() || durationMinutes !== meeting.durationMinutes;
      const changes: MeetingChange[] = [];
      if (rescheduled) {
        checkStart(startsAt, now);
        Object.assign(columns, { startsAt, durationMinutes });
        changes.push({
          type: 'meeting.rescheduled',
          payload: {
            ...base,
            previousStartsAt: meeting.startsAt.toISOString(),
            previousDurationMinutes: meeting.durationMinutes,
            startsAt: startsAt.toISOString(),
            durationMinutes,
            participantIds: meeting.participants.map((p) => p.id),
          },
        });
      }
      const fields = (['title', 'documentationPlan', 'ledBy'] as const).filter(
        (f) => columns[f] !== undefined && columns[f] !== meeting[f],
      );
      if (fields.length > 0) changes.push({ type: 'meeting.updated', payload: { ...base, fields } });
      return { columns, changes };
    });
  }

  cancel(staff: Staff, meetingId: string, version: number, reason: string, within?: Within): Promise<Meeting> {
    return this.#change(staff, meetingId, version, within, async (_trx, meeting) => {
      const text = checkText(reason, 'cancel_reason_required', 'reason');
      return {
        columns: { status: 'cancelled', cancelReason: text },
        changes: [
          {
            type: 'meeting.cancelled',
            payload: {
              meetingId,
              unitId: meeting.unitId,
              byStaffId: staff.id,
              reason: text,
              participantIds: meeting.participants.map((p) => p.id),
            },
          },
        ],
      };
    });
  }

  async addParticipant(
    staff: Staff,
    meetingId: string,
    version: number,
    input: ParticipantInput,
    within?: Within,
  ): Promise<{ meeting: Meeting; participantId: string }> {
    // Checked before the transaction (directory look-ups); the list rules are checked inside it.
    const before = await store.findMeeting(this.db, meetingId);
    if (!before) throw new NotFound('meeting');
    if (!this.canChange(staff, before)) throw new Forbidden(before.id);
    const host = (await this.directory.byId(before.bookedBy)) ?? staff;
    const participant = await checkParticipant(input, 'participant', host, this.directory);
    let participantId = '';
    const meeting = await this.#change(staff, meetingId, version, within, async (trx, current) => {
      checkParticipantList([...current.participants, participant], this.config.maxParticipants);
      const [inserted] = await store.insertParticipants(
        trx,
        meetingId,
        [participant],
        await store.nextPosition(trx, meetingId),
        this.config.dataKey,
      );
      participantId = must(inserted, 'the id of the participant just inserted');
      return {
        columns: {},
        changes: [
          {
            type: 'participant.added',
            payload: { meetingId, unitId: current.unitId, byStaffId: staff.id, participantId: participantId },
          },
        ],
      };
    });
    return { meeting, participantId };
  }

  removeParticipant(
    staff: Staff,
    meetingId: string,
    participantId: string,
    version: number,
    within?: Within,
  ): Promise<Meeting> {
    return this.#change(staff, meetingId, version, within, async (trx, meeting) => {
      const participant = meeting.participants.find((p) => p.id === participantId);
      if (!participant) throw new NotFound('participant');
      // Without the patient there is no care meeting: cancelling says so to everyone.
      if (isPatient(participant.kind)) throw new RuleViolation('patient_cannot_be_removed', 'participantId');
      return {
        columns: {},
        changes: [
          {
            type: 'participant.removed',
            payload: { meetingId, unitId: meeting.unitId, byStaffId: staff.id, participantId },
          },
        ],
        // After the outbox has withdrawn their messages (the lock order above).
        lastly: () => store.removeParticipant(trx, participantId),
      };
    });
  }

  /**
   * A new copy of the invitation (the old link is revoked). Checked against the version the clinician
   * saw, like every change, though the meeting itself stays as it is; and at most `resendsPerHour`
   * per participant, counted in the same transaction, since each one reaches their phone or inbox.
   */
  resendInvitation(
    staff: Staff,
    meetingId: string,
    participantId: string,
    version: number,
    within?: Within,
    now = new Date(),
  ): Promise<Meeting> {
    return this.#change(staff, meetingId, version, within, async (trx, meeting) => {
      if (!meeting.participants.some((p) => p.id === participantId)) throw new NotFound('participant');
      const sent = await countAttempt(trx, `resend:${participantId}`, 3600, now);
      if (sent.hits > resendsPerHour) throw new TooManyResends((sent.resetsAt.getTime() - now.getTime()) / 1000);
      return {
        changes: [
          {
            type: 'invitation.resend',
            payload: { meetingId, unitId: meeting.unitId, byStaffId: staff.id, participantId },
          },
        ],
      };
    });
  }

  /**
   * Corrects a participant's mobile number or e-mail address (or their proxy's), by the booking's
   * rules. The messages not yet sent to the people corrected are withdrawn and their links revoked
   * (the change's hooks, before their row: the lock order above), then their row is written and a
   * new invitation goes to them alone, at the new address: a proxy's number corrected leaves the
   * patient's messages as they were. Addresses as they were already change nothing.
   */
  changeContact(
    staff: Staff,
    meetingId: string,
    participantId: string,
    version: number,
    input: ContactChangeInput,
    within?: Within,
  ): Promise<Meeting> {
    // Addresses as they were already: nothing changed, so nothing to record (not even the request's audit).
    const recorded: Within = (trx, changes) =>
      changes.length > 0 ? (within?.(trx, changes) ?? Promise.resolve()) : Promise.resolve();
    return this.#change(staff, meetingId, version, recorded, async (trx, meeting) => {
      const participant = meeting.participants.find((p) => p.id === participantId);
      if (!participant) throw new NotFound('participant');
      const changed = checkContactChange(participant, input);
      const persons = (['main', 'proxy'] as const).filter((person) => changed[person]);
      if (persons.length === 0) return { changes: [] };
      const fields = (['mobile', 'email'] as const).filter((field) =>
        persons.some(
          (person) => changed[person]![field] !== (person === 'main' ? participant : participant.proxy)![field],
        ),
      );
      // Invited anew only where the invitation went elsewhere: the e-mail address beside an unchanged
      // mobile number (where an SMS that does not arrive falls back to) changes no way in.
      const reinvited = persons.filter(
        (person) => !invitedAtSame((person === 'main' ? participant : participant.proxy)!, changed[person]!),
      );
      const base = { meetingId, unitId: meeting.unitId, byStaffId: staff.id, participantId };
      return {
        changes: [{ type: 'participant.contact_changed', payload: { ...base, persons, fields, reinvited } }],
        lastly: () => store.setReach(trx, participantId, changed),
        afterwards:
          reinvited.length > 0 ? [{ type: 'invitation.resend', payload: { ...base, persons: reinvited } }] : [],
      };
    });
  }

  /**
   * Every rule the participant typed into an add form breaks, with `others` already on the list:
   * their own (readParticipant), then the list's (one patient and first, no colleague twice, how
   * many), at once. `arrange` orders the list as it will be (the booking form puts a patient first).
   */
  async #addingViolations(
    host: Staff,
    others: { kind: ParticipantKind; staffId: string | null }[],
    next: ParticipantInput,
    arrange: <T extends { kind: ParticipantKind }>(list: T[]) => T[] = (list) => list,
  ): Promise<RuleViolation[]> {
    const { participant, broken } = await readParticipant(next, 'participant', host, this.directory);
    const listed = [...others, { kind: next.kind, staffId: participant?.staffId ?? null }];
    try {
      checkParticipantList(arrange(listed), this.config.maxParticipants);
    } catch (error) {
      if (!(error instanceof RuleViolation)) throw error;
      broken.push(error);
    }
    return broken;
  }

  /**
   * Every rule a participant the booking form is about to add to its draft list breaks, together
   * with those already on it: the same rules as booking, said at once (the list's own were checked
   * as each was added).
   */
  async draftViolations(host: Staff, draft: ParticipantInput[], next: ParticipantInput): Promise<RuleViolation[]> {
    const checked: NewParticipant[] = [];
    for (const [i, p] of draft.entries())
      checked.push(await checkParticipant(p, `participants.${i}`, host, this.directory));
    // The form puts a patient added later at the top of the list, as the routine orders it.
    return this.#addingViolations(host, checked, next, withPatientFirst);
  }

  /**
   * Every rule a participant added to the meeting breaks, at once (the meeting page's add form);
   * `addParticipant` checks the same and refuses on the first. A meeting closed is refused as a change is.
   */
  async participantViolations(staff: Staff, meetingId: string, next: ParticipantInput): Promise<RuleViolation[]> {
    const meeting = await store.findMeeting(this.db, meetingId);
    if (!meeting) throw new NotFound('meeting');
    if (!this.canChange(staff, meeting)) throw new Forbidden(meeting.id);
    const closed = closedAs(meeting, this.config.roomGraceMinutes);
    if (closed) throw new NotChangeable(closed);
    const host = (await this.directory.byId(meeting.bookedBy)) ?? staff;
    return this.#addingViolations(host, meeting.participants, next);
  }

  /** Moves a participant along (invited → … → joined); later domains report it by event. */
  setParticipantStatus(participantId: string, status: ParticipantStatus, db: Db = this.db): Promise<boolean> {
    return store.setParticipantStatus(db, participantId, status);
  }

  /** The same for many participants at once; returns the ids whose status moved. */
  setParticipantsStatus(participantIds: string[], status: ParticipantStatus, db: Db = this.db): Promise<string[]> {
    return store.setParticipantsStatus(db, participantIds, status);
  }

  /**
   * A new booking with this meeting's people (the routine: a meeting ended for its connection is
   * booked again; a follow-up with the same parties): its title, length, leader and documentation
   * plan, and each participant as the booking form's list carries them, personal numbers included
   * (read, like the meeting, with this staff member's access). A participant whose contact details
   * were erased since (retention), a patient with BankID whose number was, or a colleague whose
   * account is closed cannot be carried over as they were: they are named in `left`, to add again.
   */
  async copyForBooking(
    staff: Staff,
    id: string,
  ): Promise<{
    meeting: Meeting;
    ledBy: string;
    draft: ParticipantInput[];
    left: string[];
  }> {
    const meeting = await this.get(staff, id);
    const draft: ParticipantInput[] = [];
    const left: string[] = [];
    const numberOf = (p: Participant, who: 'patient' | 'proxy') =>
      store.personalNumberOf(this.db, p.id, this.config.dataKey, who);
    for (const p of meeting.participants) {
      if (p.kind === 'colleague') {
        const colleague = p.staffId ? await this.directory.byId(p.staffId) : undefined;
        if (colleague && !colleague.disabled)
          draft.push({ kind: 'colleague', identification: 'siths', staffEmail: colleague.email });
        else left.push(p.name);
        continue;
      }
      const personalNumber = (await numberOf(p, 'patient')) ?? undefined;
      const proxyNumber = p.proxy ? ((await numberOf(p, 'proxy')) ?? undefined) : undefined;
      // What the booking rules need of the person who is invited and comes: a mobile number or an
      // e-mail address, SMS a mobile number. BankID needs the personal number of each.
      const comes = (c: { mobile: string | null; email: string | null }) =>
        (c.mobile !== null || c.email !== null) && (p.identification !== 'sms' || c.mobile !== null);
      const numbered =
        p.identification !== 'bankid' || (personalNumber !== undefined && (!p.proxy || proxyNumber !== undefined));
      // With a proxy the proxy comes: the patient (often a child) need not be reachable at all.
      const reached = p.kind === 'patient_proxy' ? p.proxy !== null && comes(p.proxy) : comes(p);
      if (!reached || !numbered) {
        left.push(p.name);
        continue;
      }
      const contact = (c: { name: string; country: string; mobile: string | null; email: string | null }) => ({
        name: c.name,
        country: c.country,
        ...(c.mobile ? { mobile: c.mobile } : {}),
        ...(c.email ? { email: c.email } : {}),
      });
      draft.push({
        kind: p.kind,
        identification: p.identification,
        language: p.language,
        ...contact(p),
        ...(personalNumber ? { personalNumber } : {}),
        ...(p.proxy ? { proxy: { ...contact(p.proxy), ...(proxyNumber ? { personalNumber: proxyNumber } : {}) } } : {}),
      });
    }
    const leader = meeting.ledBy === staff.id ? undefined : await this.directory.byId(meeting.ledBy);
    return { meeting, ledBy: leader && !leader.disabled ? leader.email : '', draft, left };
  }

  /** The names of who booked and who leads the meeting, for its page. */
  async staffNames(meeting: Meeting): Promise<{ bookedBy: string; ledBy: string }> {
    const [booker, leader] = await Promise.all([
      this.directory.byId(meeting.bookedBy),
      this.directory.byId(meeting.ledBy),
    ]);
    return { bookedBy: booker?.name ?? '', ledBy: leader?.name ?? '' };
  }

  /**
   * The room's life moves the meeting on (open → in progress → ended), never back: the status and
   * a 'meeting.status' event are written in one transaction, with the caller's `within` (the room's
   * own rows, the audit record of ending it). Returns false when it was there already.
   */
  async advanceStatus(
    meetingId: string,
    status: store.RoomStatus,
    byStaffId: string | null = null,
    now = new Date(),
    within?: WithinStatus,
  ): Promise<boolean> {
    const advanced = await this.db.transaction(async (trx) => {
      const moved = await store.advanceMeetingStatus(trx, meetingId, status, now);
      if (moved) await store.insertStatusChange(trx, { meetingId, status, byStaffId }, now);
      await within?.(trx, moved);
      return moved;
    });
    if (advanced) this.bus.emit('meeting.status', { meetingId, status, byStaffId });
    return advanced;
  }

  /** A meeting without an access check: for the domain's own listeners, never for a request. */
  find(meetingId: string): Promise<Meeting | undefined> {
    return store.findMeeting(this.db, meetingId);
  }

  changes(meetingId: string): Promise<store.RecordedChange[]> {
    return store.listChanges(this.db, meetingId);
  }
}
