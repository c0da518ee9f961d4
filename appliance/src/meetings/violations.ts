// Named errors for the routine's rules. Each carries a rule code (tests and API clients match on
// it), the field it concerns and the values its message needs; the error funnel turns it into a
// Boom error with the message in the request's language (admin/locales/*/meetings.json).
import Boom from '@hapi/boom';
import type { Request } from '@hapi/hapi';
import type { Language } from '../common/language.ts';
import { DomainError } from '../http/errors.ts';
import { hasString, t } from '../http/i18n.ts';
import { tooManyRequests } from '../http/ratelimit.ts';
export type RuleCode =
  | 'title_required'
  | 'documentation_required'
  | 'starts_in_past'
  | 'time_skipped'
  | 'leader_unknown'
  | 'unit_unknown'
  | 'unit_not_yours'
  | 'participant_required'
  | 'patient_first'
  | 'one_patient'
  | 'too_many_participants'
  | 'name_required'
  | 'contact_required'
  | 'guest_contact_required'
  | 'guest_mobile_and_email'
  | 'guest_personal_number'
  | 'identification_not_allowed'
  | 'sms_needs_mobile'
  | 'bankid_needs_personal_number'
  | 'personal_number_format'
  | 'personal_number_date'
  | 'personal_number_checksum'
  | 'country_unknown'
  | 'phone_invalid'
  | 'phone_not_mobile'
  | 'email_invalid'
  | 'proxy_required'
  | 'colleague_unknown'
  | 'colleague_is_host'
  | 'colleague_twice'
  | 'patient_cannot_be_removed'
  | 'colleague_contact_from_directory'
  | 'cancel_reason_required'
  | 'period_invalid';

/** A country by its name in `lang`: the booking form's own word for it, else the language's. */
function countryName(lang: Language, code: string): string {
  const key = `meetings.country.${code}`;
  if (hasString(lang, key)) return t(lang, key);
  return new Intl.DisplayNames([lang], { type: 'region' }).of(code) ?? code;
}

/**
 * The answer names the rule it refuses on, with what the client needs to act: tests and API clients match on
 * `rule`.
 */
function namingRule(boom: Boom.Boom, fields: { rule: string } & Record<string, unknown>): Boom.Boom {
  Object.assign(boom.output.payload, fields);
  return boom;
}

export class RuleViolation extends DomainError {
  constructor(
    readonly rule: RuleCode,
    readonly field?: string,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(`${rule}${field ? ` (${field})` : ''}`);
    this.name = 'RuleViolation';
  }

  text(lang: Language): string {
    // A phone number is checked against a known country: the clinician reads its name ("Sverige"),
    // the one the form's list shows, not its code ("SE").
    const { country, name } = this.vars;
    const vars =
      this.rule === 'phone_invalid' && typeof country === 'string'
        ? { ...this.vars, country: countryName(lang, country) }
        : // A rule that names the person, said beside a name not yet typed (an add form says every rule at once).
          name === ''
          ? { ...this.vars, name: t(lang, 'meetings.book.someone') }
          : this.vars;
    return t(lang, `meetings.rule.${this.rule}`, vars);
  }

  toBoom(lang: Language): Boom.Boom {
    return namingRule(Boom.badRequest(this.text(lang)), { rule: this.rule, field: this.field });
  }
}

/** The meeting changed since the client read it (optimistic concurrency). */
export class VersionConflict extends DomainError {
  constructor(readonly current: number) {
    super('version conflict');
    this.name = 'VersionConflict';
  }

  toBoom(lang: Language): Boom.Boom {
    return namingRule(Boom.conflict(t(lang, 'meetings.conflict')), {
      rule: 'version_conflict',
      currentVersion: this.current,
    });
  }
}

/**
 * Cancelled meetings and those over (ended, or past their time though nobody marked them ended:
 * model.ts, closedAs) cannot be changed; one over is booked anew.
 */
export class NotChangeable extends DomainError {
  constructor(readonly status: 'cancelled' | 'ended') {
    super(`meeting is ${status}`);
    this.name = 'NotChangeable';
  }

  toBoom(lang: Language): Boom.Boom {
    const message =
      this.status === 'ended'
        ? t(lang, 'meetings.notChangeableEnded')
        : t(lang, 'meetings.notChangeable', { status: t(lang, `meetings.status.${this.status}`) });
    return namingRule(Boom.conflict(message), { rule: 'not_changeable' });
  }
}

/** A participant's link revoked and sent anew too often: each re-send is an SMS or e-mail to them. */
export class TooManyResends extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('too many re-sends');
    this.name = 'TooManyResends';
  }

  toBoom(lang: Language): Boom.Boom {
    const minutes = Math.ceil(this.retryAfterSeconds / 60);
    return namingRule(tooManyRequests(this.retryAfterSeconds, t(lang, 'meetings.tooManyResends', { minutes })), {
      rule: 'too_many_resends',
    });
  }
}

export class NotFound extends DomainError {
  constructor(readonly what: 'meeting' | 'participant') {
    super(`${what} not found`);
    this.name = 'NotFound';
  }

  toBoom(lang: Language): Boom.Boom {
    return Boom.notFound(t(lang, `meetings.notFound.${this.what}`));
  }
}

export class Forbidden extends DomainError {
  /**
   * What was refused, wherever the request named it (the path, a query, a body): a meeting, or a
   * unit whose meetings were asked for or booked.
   */
  constructor(
    readonly meetingId?: string,
    readonly unitId?: string,
  ) {
    super('not your unit');
    this.name = 'Forbidden';
  }

  toBoom(lang: Language): Boom.Boom {
    return Boom.forbidden(t(lang, 'meetings.forbidden'));
  }

  /** A denied access to a meeting is itself an access attempt the audit log keeps. */
  override async reported(request: Request): Promise<void> {
    const meetingId = this.meetingId;
    await request.audit('meeting.denied', {
      meetingId,
      targetType: 'meeting',
      targetId: meetingId,
      details: { path: request.path, method: request.method, ...(this.unitId ? { unitId: this.unitId } : {}) },
    });
  }
}
