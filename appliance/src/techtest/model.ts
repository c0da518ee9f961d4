// The technical test as the rest of the appliance sees it (rows are mapped once, in store.ts).
// The clinic's routine: camera ("do you see yourself?"), microphone (checks itself), sound
// ("click to play — do you hear it?"), internet connection (checked automatically).

/** Whose test this is: a participant entering a meeting, or a staff member's login session. */
export const subjectTypes = ['participant', 'staff_session'] as const;
export type SubjectType = (typeof subjectTypes)[number];
export interface Subject {
  type: SubjectType;
  id: string;
  /**
   * A participant's meeting, when whoever mounted the test knows it (the guest's way in has just read
   * it): what others record of the test then need not look the participant up. Never stored.
   */
  meetingId?: string;
}

/** Who takes a participant's test: the participant, or their proxy (a patient's representative). */
export interface TestTaker {
  participantId: string;
  person: 'main' | 'proxy';
}

/** A participant's test subject: their id, with ":proxy" when their proxy takes the test. */
export const participantSubject = (taker: TestTaker): Subject => ({
  type: 'participant',
  id: taker.person === 'proxy' ? `${taker.participantId}:proxy` : taker.participantId,
});

/** Who took a participant's test (participantSubject read back); undefined for a staff member's. */
export function testTaker(subject: Subject): TestTaker | undefined {
  if (subject.type !== 'participant') return undefined;
  const [participantId = '', person] = subject.id.split(':');
  return { participantId, person: person === 'proxy' ? 'proxy' : 'main' };
}

export const cameraAnswers = ['yes', 'no', 'unavailable'] as const;
export type CameraAnswer = (typeof cameraAnswers)[number];
export const microphoneAnswers = ['detected', 'silent', 'unavailable'] as const;
export type MicrophoneAnswer = (typeof microphoneAnswers)[number];
export const soundAnswers = ['yes', 'no'] as const;
export type SoundAnswer = (typeof soundAnswers)[number];
export const verdicts = ['good', 'poor', 'failed'] as const;
export type Verdict = (typeof verdicts)[number];

/** What the connection step measured; null where a figure could not be taken. */
export interface NetworkFigures {
  /** false when TURN_URLS is not set: the relay part was skipped. */
  relayConfigured: boolean;
  relayUdp: boolean | null;
  relayTcp: boolean | null;
  rttMs: number | null;
  jitterMs: number | null;
  /** Fraction of bytes lost, 0..1. */
  loss: number | null;
  throughputKbps: number | null;
  downloadKbps: number | null;
  uploadKbps: number | null;
  /** How long the automatic part took, for support and the benchmark. */
  durationMs: number | null;
}

/** Device labels only: device ids are per-site fingerprints and are never sent. */
export interface ChosenDevices {
  camera: string | null;
  microphone: string | null;
  speaker: string | null;
}

export interface TechTestAnswers {
  camera: CameraAnswer;
  microphone: MicrophoneAnswer;
  /** Loudest level heard, RMS 0..1. */
  microphoneLevel: number | null;
  sound: SoundAnswer;
  devices: ChosenDevices;
  network: NetworkFigures;
}

export interface TechTestResult extends TechTestAnswers {
  id: string;
  subject: Subject;
  verdict: Verdict;
  browser: string;
  os: string;
  testedAt: Date;
}
