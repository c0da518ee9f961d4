// The clinic's booking routine as checks: what a meeting and each kind of participant must and
// must not have. Everything is checked before anything is written, so bad input stores nothing.
import type { Staff } from '../staff/index.ts';
import { tidyName } from '../common/names.ts';
import { defaultCountry, isCountry, parseEmail, parseMobile, type CountryCode } from './contacts.ts';
import {
  isPatient,
  type ContactPerson,
  type IdentificationMethod,
  type NewContact,
  type NewParticipant,
  type Participant,
  type ParticipantKind,
} from './model.ts';
import { parsePersonalNumber } from './personal-number.ts';
import { RuleViolation } from './violations.ts';
import type { Language } from '../common/language.ts';
import { must } from '../common/must.ts';

export interface ContactInput {
  name?: string;
  country?: string;
  mobile?: string;
  email?: string;
  personalNumber?: string;
}

export interface ParticipantInput extends ContactInput {
  kind: ParticipantKind;
  identification?: IdentificationMethod;
  proxy?: ContactInput;
  /** The language of their messages and pages: Swedish unless the booking says English. */
  language?: Language;
  /** A colleague, by staff id or by e-mail address. */
  staffId?: string;
  staffEmail?: string;
}

/** Which identification each kind may use (the clinic's routine: patients BankID or SMS; colleagues SITHS). */
export const allowedIdentification: Record<ParticipantKind, readonly IdentificationMethod[]> = {
  patient: ['bankid', 'sms'],
  patient_proxy: ['bankid', 'sms'],
  colleague: ['siths'],
  guest: ['none', 'sms', 'bankid', 'siths'],
};

/** Finds staff accounts for colleagues and leaders (the staff domain's directory). */
export interface Directory {
  byId(id: string): Promise<Staff | undefined>;
  byEmail(email: string): Promise<Staff | undefined>;
}

const blank = (value: string | undefined): boolean => value === undefined || value.trim() === '';

/**
 * A mobile number and e-mail address as typed, normalised (a blank one is none); undefined when
 * either cannot be read, each one that cannot said in `broken`.
 */
function readReach(
  input: Partial<Reach<string>>,
  field: string,
  country: CountryCode,
  broken: RuleViolation[],
): Reach | undefined {
  let mobile: string | null = null;
  let readable = true;
  if (!blank(input.mobile)) {
    const parsed = parseMobile(input.mobile!, country);
    if (parsed.ok) mobile = parsed.e164;
    else {
      readable = false;
      broken.push(
        new RuleViolation(parsed.problem === 'invalid' ? 'phone_invalid' : 'phone_not_mobile', `${field}.mobile`, {
          number: input.mobile!.trim(),
          country,
        }),
      );
    }
  }
  let email: string | null = null;
  if (!blank(input.email)) {
    email = parseEmail(input.email!) ?? null;
    if (!email) {
      readable = false;
      broken.push(new RuleViolation('email_invalid', `${field}.email`, { email: input.email!.trim() }));
    }
  }
  return readable ? { mobile, email } : undefined;
}

/** The same, refusing on the first that cannot be read (a contact change: one field at a time). */
function checkReach(input: Partial<Reach<string>>, field: string, country: CountryCode): Reach {
  const broken: RuleViolation[] = [];
  const reach = readReach(input, field, country, broken);
  if (!reach) throw must(broken[0], 'the reason the reach was refused');
  return reach;
}

/** Runs a rule that refuses by throwing; what it refuses goes into `broken`. Whether it held. */
function holds(rule: () => void, broken: RuleViolation[]): boolean {
  try {
    rule();
    return true;
  } catch (error) {
    if (!(error instanceof RuleViolation)) throw error;
    broken.push(error);
    return false;
  }
}

/** How a person is reached: the two addresses their invitations and codes go to. */
export interface Reach<T = string | null> {
  mobile: T;
  email: T;
}

/**
 * How a participant must be reachable, at booking and when their details are corrected: a guest
 * by one of the two, never both (the routine: an e-mail link for a computer, or an SMS link for a mobile); the person the SMS (link or code) goes to by a mobile; the
 * patient, or the proxy who comes for them, by either. The patient with a proxy (often a child)
 * need not be reachable at all: the proxy is invited and comes.
 */
function checkReachable(
  kind: ParticipantKind,
  identification: IdentificationMethod | undefined,
  person: ContactPerson,
  reach: Reach,
  name: string,
  field: string,
): void {
  if (kind === 'colleague' || (kind === 'patient_proxy' && person === 'main')) return;
  if (kind === 'guest') {
    if (reach.mobile && reach.email) throw new RuleViolation('guest_mobile_and_email', `${field}.email`);
    if (!reach.mobile && !reach.email) throw new RuleViolation('guest_contact_required', `${field}.mobile`);
  }
  if (identification === 'sms' && !reach.mobile)
    throw new RuleViolation('sms_needs_mobile', `${field}.mobile`, { name });
  if (!reach.mobile && !reach.email) throw new RuleViolation('contact_required', `${field}.mobile`, { name });
}

/**
 * One person of a participant booked (the participant, or their proxy): name, reach, personal
 * number. Every rule they break goes into `broken`, in the order the rules are checked; the person
 * normalised when none. `nameRule` is what a missing name breaks (the proxy's: that there is one).
 */
function readContact(
  input: ContactInput,
  field: string,
  kind: Exclude<ParticipantKind, 'colleague'>,
  identification: IdentificationMethod | undefined,
  person: ContactPerson,
  broken: RuleViolation[],
  nameRule: 'name_required' | 'proxy_required' = 'name_required',
): NewContact | undefined {
  const before = broken.length;
  const name = tidyName(input.name ?? '');
  if (!name) broken.push(new RuleViolation(nameRule, `${field}.name`));
  const country = (input.country ?? defaultCountry).toUpperCase();
  // A number is read for its country: with none known it cannot be read, nor said to be missing.
  const reach = isCountry(country)
    ? readReach(input, field, country, broken)
    : void broken.push(new RuleViolation('country_unknown', `${field}.country`, { country }));
  if (reach) holds(() => checkReachable(kind, identification, person, reach, name, field), broken);

  let number: string | null = null;
  if (kind === 'guest') {
    // The routine (README.md): no personal identity number is ever asked of a guest.
    if (!blank(input.personalNumber))
      broken.push(new RuleViolation('guest_personal_number', `${field}.personalNumber`));
  } else if (!blank(input.personalNumber)) {
    // Optional unless with BankID: a patient invited by SMS may still be recorded with their number,
    // which is how the patient's log extract finds them.
    const parsed = parsePersonalNumber(input.personalNumber!);
    if (parsed.ok) number = parsed.value;
    else broken.push(new RuleViolation(`personal_number_${parsed.problem}`, `${field}.personalNumber`, { name }));
  } else if (identification === 'bankid') {
    // Required with BankID: the identity must match it.
    broken.push(new RuleViolation('bankid_needs_personal_number', `${field}.personalNumber`, { name }));
  }
  if (broken.length > before || !reach) return undefined;
  return { name, country, ...reach, personalNumber: number };
}

/**
 * Every rule one participant for a meeting hosted by `host` breaks, in the order they are checked
 * (an add form says them all at once), and the participant normalised when they break none.
 */
export async function readParticipant(
  input: ParticipantInput,
  field: string,
  host: Staff,
  directory: Directory,
): Promise<{ participant?: NewParticipant; broken: RuleViolation[] }> {
  const broken: RuleViolation[] = [];
  const kind = input.kind;
  const asked = input.identification ?? (kind === 'colleague' ? 'siths' : undefined);
  const identification = asked && allowedIdentification[kind].includes(asked) ? asked : undefined;
  if (!identification)
    broken.push(
      new RuleViolation('identification_not_allowed', `${field}.identification`, {
        allowed: allowedIdentification[kind].join(', '),
      }),
    );

  if (kind === 'colleague') {
    const staff = input.staffId
      ? await directory.byId(input.staffId)
      : !blank(input.staffEmail)
        ? await directory.byEmail(input.staffEmail!.trim().toLowerCase())
        : undefined;
    if (!staff || staff.disabled)
      broken.push(
        new RuleViolation('colleague_unknown', `${field}.staffEmail`, { who: input.staffEmail ?? input.staffId ?? '' }),
      );
    else if (staff.id === host.id) broken.push(new RuleViolation('colleague_is_host', `${field}.staffEmail`));
    if (broken.length > 0 || !staff || !identification) return { broken };
    const participant: NewParticipant = {
      kind,
      identification,
      name: staff.name,
      country: defaultCountry,
      mobile: null,
      email: staff.email,
      personalNumber: null,
      proxy: null,
      staffId: staff.id,
      language: input.language ?? 'sv',
    };
    return { participant, broken };
  }

  const main = readContact(input, field, kind, identification, 'main', broken);
  // With a proxy, the proxy is invited and identifies; the patient (often a child) may have no phone.
  const proxy =
    kind === 'patient_proxy'
      ? readContact(input.proxy ?? {}, `${field}.proxy`, kind, identification, 'proxy', broken, 'proxy_required')
      : null;
  if (!main || proxy === undefined || !identification) return { broken };
  return {
    participant: { kind, identification, ...main, proxy, staffId: null, language: input.language ?? 'sv' },
    broken,
  };
}

/** Checks one participant for a meeting hosted by `host`, and returns it normalised; refuses on the first rule broken. */
export async function checkParticipant(
  input: ParticipantInput,
  field: string,
  host: Staff,
  directory: Directory,
): Promise<NewParticipant> {
  const { participant, broken } = await readParticipant(input, field, host, directory);
  if (broken[0]) throw broken[0];
  return must(participant, 'a participant who broke no rule');
}

/**
 * A change of how a participant (and their proxy) is reached: a person left out stays as they are.
 * `country` is what a typed mobile number is read for, as at booking (the one booked when left out).
 */
export interface ContactChangeInput {
  country?: string;
  mobile?: string;
  email?: string;
  proxy?: { country?: string; mobile?: string; email?: string };
}

/** A person's new reach, and the country their mobile number was read for (kept with it, as at booking). */
export interface ChangedReach extends Reach {
  country: string;
}

/**
 * Checks a change of a booked participant's mobile number and e-mail address by the booking's rules
 * (the number read for the country it was booked for; a guest has one of the two, never both; the
 * person identified by SMS keeps a mobile; the patient, or the proxy who comes for them, stays
 * reachable) and returns what each person's addresses become, the unchanged ones left out. A
 * colleague is reached at their staff account's address, which the directory keeps.
 */
export function checkContactChange(
  participant: Participant,
  input: ContactChangeInput,
): Partial<Record<ContactPerson, ChangedReach>> {
  if (participant.kind === 'colleague') throw new RuleViolation('colleague_contact_from_directory', 'participantId');
  const next = (
    now: Reach & { country: string },
    typed: ContactChangeInput['proxy'],
    field: string,
  ): ChangedReach | undefined => {
    if (!typed || (typed.mobile === undefined && typed.email === undefined)) return undefined;
    const chosen = typed.country?.trim().toUpperCase();
    if (chosen && !isCountry(chosen))
      throw new RuleViolation('country_unknown', `${field}.country`, { country: chosen });
    const readFor = [chosen, now.country].find((c): c is CountryCode => !!c && isCountry(c)) ?? defaultCountry;
    const reach = checkReach(
      { mobile: typed.mobile ?? now.mobile ?? undefined, email: typed.email ?? now.email ?? undefined },
      field,
      readFor,
    );
    if (reach.mobile === now.mobile && reach.email === now.email) return undefined;
    // The country goes with a number read anew; a number kept keeps the country it was read for.
    return { ...reach, country: typed.mobile !== undefined && reach.mobile !== now.mobile ? readFor : now.country };
  };
  const changed: Partial<Record<ContactPerson, ChangedReach>> = {};
  const main = next(participant, input, 'participant');
  if (main) changed.main = main;
  if (input.proxy && !participant.proxy) throw new RuleViolation('proxy_required', 'participant.proxy');
  const proxy = participant.proxy ? next(participant.proxy, input.proxy, 'participant.proxy') : undefined;
  if (proxy) changed.proxy = proxy;

  const { kind, identification } = participant;
  checkReachable(kind, identification, 'main', changed.main ?? participant, participant.name, 'participant');
  if (participant.proxy)
    checkReachable(
      kind,
      identification,
      'proxy',
      changed.proxy ?? participant.proxy,
      participant.proxy.name,
      'participant.proxy',
    );
  return changed;
}

/** A meeting is with someone: a list without a participant is refused. */
export function checkSomeoneInvited(participants: readonly unknown[]): void {
  if (participants.length === 0) throw new RuleViolation('participant_required', 'participants');
}

/**
 * Checks the participant list as a whole: someone invited; at most one patient (or patient with
 * proxy), and when the patient takes part ("om de ska vara med", the routine says) added first;
 * no colleague twice, and at most `max` people with the host.
 */
export function checkParticipantList(
  participants: { kind: ParticipantKind; staffId: string | null }[],
  max: number,
): void {
  checkSomeoneInvited(participants);
  const patients = participants.filter((p) => isPatient(p.kind));
  if (patients.length > 1) throw new RuleViolation('one_patient', 'participants');
  if (patients.length === 1 && !isPatient(must(participants[0], 'the first participant').kind))
    throw new RuleViolation('patient_first', 'participants.0');
  const staffIds = participants.map((p) => p.staffId).filter((id): id is string => id !== null);
  if (new Set(staffIds).size !== staffIds.length) throw new RuleViolation('colleague_twice', 'participants');
  // The host (the booking clinician) is one of the people in the room.
  if (participants.length + 1 > max) throw new RuleViolation('too_many_participants', 'participants', { max });
}

/** A few minutes of slack: a form filled in at 10:58 for 11:00 is sent at 11:01. */
const pastSlackMs = 15 * 60 * 1000;

export function checkStart(startsAt: Date, now = new Date()): void {
  if (startsAt.getTime() < now.getTime() - pastSlackMs) throw new RuleViolation('starts_in_past', 'startsAt');
}

export function checkText(
  value: string | undefined,
  rule: 'title_required' | 'documentation_required' | 'cancel_reason_required',
  field: string,
): string {
  const text = (value ?? '').normalize('NFC').trim();
  if (!text) throw new RuleViolation(rule, field);
  return text;
}
