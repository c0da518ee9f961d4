// How a participant must be reachable, checked alike when they are booked (checkParticipant) and
// when their contact details are corrected (checkContactChange): the same situation is taken, or
// refused by the same rule, at the same field, in the same words.
import test from 'ava';
import type { IdentificationMethod, Participant, ParticipantKind } from '../../appliance/src/meetings/model.ts';
import { checkContactChange, checkParticipant, type Directory } from '../../appliance/src/meetings/rules.ts';
import { RuleViolation } from '../../appliance/src/meetings/violations.ts';
import type { Staff } from '../../appliance/src/staff/model.ts';

const host: Staff = {
  id: '00000000-0000-4000-8000-000000000001',
  email: 'anna.lind@region.example',
  name: 'Anna Lind',
  hsaId: null,
  role: 'clinician',
  unitId: '00000000-0000-4000-8000-000000000002',
  disabled: false,
  mustChangePassword: false,
};
const nobody: Directory = { byId: () => Promise.resolve(undefined), byEmail: () => Promise.resolve(undefined) };

/** A mobile number and an e-mail address, either left out. */
interface Reach {
  mobile?: string;
  email?: string;
}
interface Situation {
  kind: Exclude<ParticipantKind, 'colleague'>;
  identification: IdentificationMethod;
  main: Reach;
  proxy?: Reach;
  /** The rule and field that refuse it; taken when left out. */
  refused?: [string, string];
}

const mobile = '070-123 45 67';
const email = 'sara@example.se';
const situations: Situation[] = [
  {
    kind: 'guest',
    identification: 'none',
    main: { mobile, email },
    refused: ['guest_mobile_and_email', 'participant.email'],
  },
  { kind: 'guest', identification: 'none', main: {}, refused: ['guest_contact_required', 'participant.mobile'] },
  { kind: 'guest', identification: 'none', main: { email } },
  { kind: 'guest', identification: 'none', main: { mobile } },
  { kind: 'guest', identification: 'sms', main: { email }, refused: ['sms_needs_mobile', 'participant.mobile'] },
  { kind: 'guest', identification: 'sms', main: { mobile } },
  { kind: 'guest', identification: 'bankid', main: { email } },
  { kind: 'patient', identification: 'sms', main: { email }, refused: ['sms_needs_mobile', 'participant.mobile'] },
  { kind: 'patient', identification: 'sms', main: {}, refused: ['sms_needs_mobile', 'participant.mobile'] },
  { kind: 'patient', identification: 'sms', main: { mobile } },
  { kind: 'patient', identification: 'bankid', main: {}, refused: ['contact_required', 'participant.mobile'] },
  { kind: 'patient', identification: 'bankid', main: { email } },
  { kind: 'patient', identification: 'bankid', main: { mobile, email } },
  {
    kind: 'patient_proxy',
    identification: 'sms',
    main: {},
    proxy: { email },
    refused: ['sms_needs_mobile', 'participant.proxy.mobile'],
  },
  {
    kind: 'patient_proxy',
    identification: 'bankid',
    main: {},
    proxy: {},
    refused: ['contact_required', 'participant.proxy.mobile'],
  },
  // The patient with a proxy (often a child) may have no way to be reached: the proxy comes.
  { kind: 'patient_proxy', identification: 'sms', main: {}, proxy: { mobile } },
  { kind: 'patient_proxy', identification: 'bankid', main: { email }, proxy: { email } },
];

const named = (s: Situation) =>
  `${s.kind} by ${s.identification}, ${JSON.stringify(s.main)}${s.proxy ? ` with a proxy ${JSON.stringify(s.proxy)}` : ''}`;

/** How a check ends: taken, or refused by a rule at a field in these words. */
async function outcome(check: () => unknown): Promise<string> {
  try {
    await check();
    return 'taken';
  } catch (error) {
    if (!(error instanceof RuleViolation)) throw error;
    return `${error.rule} at ${error.field}: ${error.text('sv')}`;
  }
}

/** The situation booked (a BankID patient or proxy has the personal number BankID needs). */
const booked = (s: Situation) =>
  outcome(() =>
    checkParticipant(
      {
        kind: s.kind,
        identification: s.identification,
        name: 'Sara Lind',
        ...s.main,
        ...(s.kind !== 'guest' && s.identification === 'bankid' ? { personalNumber: '19121212-1212' } : {}),
        ...(s.proxy
          ? {
              proxy: {
                name: 'Anna Lind',
                ...s.proxy,
                ...(s.identification === 'bankid' ? { personalNumber: '19121212-1212' } : {}),
              },
            }
          : {}),
      },
      'participant',
      host,
      nobody,
    ),
  );

/** The same participant booked reachable every way the kind allows, then corrected to the situation. */
const corrected = (s: Situation) => {
  const person = (name: string) => ({
    name,
    country: 'SE',
    mobile: '+46701234567',
    email: s.kind === 'guest' ? null : 'old@example.se',
    personalNumberMasked: null,
  });
  const participant: Participant = {
    id: '00000000-0000-4000-8000-000000000003',
    meetingId: '00000000-0000-4000-8000-000000000004',
    kind: s.kind,
    identification: s.identification,
    ...person('Sara Lind'),
    proxy: s.proxy ? person('Anna Lind') : null,
    staffId: null,
    language: 'sv',
    status: 'invited',
    addedAt: new Date(),
  };
  // The form sends every field: an empty one takes the number or address away.
  const typed = (reach: Reach) => ({ mobile: reach.mobile ?? '', email: reach.email ?? '' });
  return outcome(() =>
    checkContactChange(participant, { ...typed(s.main), ...(s.proxy ? { proxy: typed(s.proxy) } : {}) }),
  );
};

for (const situation of situations) {
  test(`booked or corrected alike: ${named(situation)}`, async (t) => {
    const expected = situation.refused ? `${situation.refused[0]} at ${situation.refused[1]}:` : 'taken';
    const [atBooking, atCorrection] = [await booked(situation), await corrected(situation)];
    t.true(atBooking.startsWith(expected), `booked: ${atBooking}`);
    t.is(atCorrection, atBooking, 'corrected as booked, in the same words');
  });
}
