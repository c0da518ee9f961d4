// Named errors for the routine's rules. Each carries a rule code (tests and API clients match on
// it), the field it concerns and the values its message needs; the route turns it into a Boom
// error with the message in the request's language (admin/locales/*/meetings.json, meetings.rule.*).
export type RuleCode =
  | 'title_required' | 'documentation_required' | 'starts_in_past' | 'leader_unknown' | 'unit_unknown' | 'unit_not_yours'
  | 'patient_required' | 'patient_first' | 'one_patient' | 'too_many_participants'
  | 'name_required' | 'contact_required' | 'guest_contact_required' | 'guest_mobile_and_email' | 'guest_personal_number'
  | 'identification_not_allowed' | 'sms_needs_mobile' | 'bankid_needs_personal_number' | 'personal_number_only_with_bankid'
  | 'personal_number_format' | 'personal_number_date' | 'personal_number_checksum'
  | 'country_unknown' | 'phone_invalid' | 'phone_not_mobile' | 'email_invalid' | 'proxy_required'
  | 'colleague_unknown' | 'colleague_is_host' | 'colleague_twice'
  | 'patient_cannot_be_removed' | 'cancel_reason_required' | 'period_invalid';

export class RuleViolation extends Error {
  constructor(readonly rule: RuleCode, readonly field?: string, readonly vars: Record<string, string | number> = {}) {
    super(`${rule}${field ? ` (${field})` : ''}`);
    this.name = 'RuleViolation';
  }
}

/** The meeting changed since the client read it (optimistic concurrency). */
export class VersionConflict extends Error {
  constructor(readonly current: number) {
    super('version conflict');
    this.name = 'VersionConflict';
  }
}

/** Cancelled and ended meetings cannot be changed. */
export class NotChangeable extends Error {
  constructor(readonly status: string) {
    super(`meeting is ${status}`);
    this.name = 'NotChangeable';
  }
}

/** A participant's link revoked and sent anew too often: each re-send is an SMS or e-mail to them. */
export class TooManyResends extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many re-sends');
    this.name = 'TooManyResends';
  }
}

export class NotFound extends Error {
  constructor(readonly what: 'meeting' | 'participant') {
    super(`${what} not found`);
    this.name = 'NotFound';
  }
}

export class Forbidden extends Error {
  constructor() {
    super('not your unit');
    this.name = 'Forbidden';
  }
}
