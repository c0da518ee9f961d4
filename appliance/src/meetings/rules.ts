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

/** A mobile number and e-mail address as typed, normalised (a blank one is none). */
function checkReach(input: Partial<Reach<string>>, field: string, country: CountryCode): Reach {
  let mobile: string | null = null;
  if (!blank(input.mobile)) {
    const parsed = parseMobile(input.mobile!, country);
    if (!parsed.ok)
      throw new RuleViolation(parsed.problem === 'invalid' ? 'phone_invalid' : 'phone_not_mobile', `${field}.mobile`, {
        number: input.mobile!.trim(),
        country,
      });
    mobile = parsed.e164;
  }
  let email: string | null = null;
  if (!blank(input.email)) {
    email = parseEmail(input.email!) ?? null;
    if (!email) throw new RuleViolation('email_invalid', `${field}.email`, { email: input.email!.trim() });
  }
  return { mobile, email };
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
  identification: IdentificationMethod,
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

/** One person of a participant booked (the participant, or their proxy): name, reach, personal number. */
function checkContact(
  input: ContactInput,
  field: string,
  kind: Exclude<ParticipantKind, 'colleague'>,
  identification: IdentificationMethod,
  person: ContactPerson,
): NewContact {
  const name = tidyName(input.name ?? '');
  if (!name) throw new RuleViolation('name_required', `${field}.name`);
  const country = (input.country ?? defaultCountry).toUpperCase();
  if (!isCountry(country)) throw new RuleViolation('country_unknown', `${field}.country`, { country });

  const { mobile, email } = checkReach(input, field, country);
  checkReachable(kind, identification, person, { mobile, email }, name, field);

  let number: string | null = null;
  if (kind === 'guest') {
    // The routine (README.md): no personal identity number is ever asked of a guest.
    if (!blank(input.personalNumber)) throw new RuleViolation('guest_personal_number', `${field}.personalNumber`);
  } else {
    // Required with BankID (the identity must match it); otherwise optional: a patient invited by SMS
    // may still be recorded with their number, which is how the patient's log extract finds them.
    if (identification === 'bankid' && blank(input.personalNumber))
      throw new RuleViolation('bankid_needs_personal_number', `${field}.personalNumber`, { name });
    if (!blank(input.personalNumber)) {
      const parsed = parsePersonalNumber(input.personalNumber!);
      if (!parsed.ok) throw new RuleViolation(`personal_number_${parsed.problem}`, `${field}.personalNumber`, { name });
      number = parsed.value;
    }
  }
  return { name, country, mobile, email, personalNumber: number };
}

/** Checks one participant for a meeting hosted by `host`, and returns it normalised. */
export async function checkParticipant(
  input: ParticipantInput,
  field: string,
  host: Staff,
  directory: Directory,
): Promise<NewParticipant> {
  const kind = input.kind;
  const identification = input.identification ?? (kind === 'colleague' ? 'siths' : undefined);
  if (!identification || !allowedIdentification[kind].includes(identification)) {
    throw new RuleViolation('identification_not_allowed', `${field}.identification`, {
      allowed: allowedIdentification[kind].join(', '),
    });
  }

  if (kind === 'colleague') {
    const staff = input.staffId
      ? await directory.byId(input.staffId)
      : !blank(input.staffEmail)
        ? await directory.byEmail(input.staffEmail!.trim().toLowerCase())
        : undefined;
    if (!staff || staff.disabled)
      throw new RuleViolation('colleague_unknown', `${field}.staffEmail`, {
        who: input.staffEmail ?? input.staffId ?? '',
      });
    if (staff.id === host.id) throw new RuleViolation('colleague_is_host', `${field}.staffEmail`);
    return {
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
  }

  if (kind === 'guest') {
    const contact = checkContact(input, field, kind, identification, 'main');
    return { kind, identification, ...contact, proxy: null, staffId: null, language: input.language ?? 'sv' };
  }

  // With a proxy, the proxy is invited and identifies; the patient (often a child) may have no phone.
  const patient = checkContact(input, field, kind, identification, 'main');
  let proxy: NewContact | null = null;
  if (kind === 'patient_proxy') {
    if (!input.proxy || blank(input.proxy.name)) throw new RuleViolation('proxy_required', `${field}.proxy.name`);
    proxy = checkContact(input.proxy, `${field}.proxy`, kind, identification, 'proxy');
  }
  return { kind, identification, ...patient, proxy, staffId: null, language: input.language ?? 'sv' };
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
