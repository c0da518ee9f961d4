// Who a meeting's live changes reach, for the events that do not carry it (a message's status, a
// no-show): calendars follow their unit and, for a clinician, their own meetings in other units
// (live.ts). The unit is set when the meeting is booked and never changes; the staff named on it
// (booker, leader, colleagues) change with the meeting, which forgets them then (`forget`). What
// was found is remembered for the most recent meetings, and so is a lookup while it runs: the first
// burst of a new meeting's reports (each invitation queued, sending, sent, reported in one tick)
// asks the database once, not once each.

/** A lookup by meeting id whose answers are remembered until forgotten (or pushed out by newer ones). */
export interface Remembered<T> {
  (meetingId: string): Promise<T | undefined>;
  /** The meeting changed: its next lookup asks again. */
  forget(meetingId: string): void;
  /** What is remembered now, without asking (undefined: nothing, or still being asked). */
  known(meetingId: string): T | undefined;
}

/** `find` answers what is remembered of a meeting (undefined: no such meeting, which is not remembered). */
export function remembered<T>(find: (meetingId: string) => Promise<T | undefined>, capacity = 10_000): Remembered<T> {
  const answers = new Map<string, Promise<T | undefined>>();
  const settled = new Map<string, T>();
  const forget = (meetingId: string) => {
    answers.delete(meetingId);
    settled.delete(meetingId);
  };
  const lookup = (meetingId: string) => {
    const known = answers.get(meetingId);
    if (known) return known;
    const asked = find(meetingId).then(
      (answer) => {
        // Forgotten while asked (the meeting changed meanwhile): the answer may be the old one.
        if (answers.get(meetingId) !== asked) return answer;
        if (answer === undefined) answers.delete(meetingId);
        else settled.set(meetingId, answer);
        return answer;
      },
      (error: unknown) => {
        if (answers.get(meetingId) === asked) answers.delete(meetingId);
        throw error;
      },
    );
    if (answers.size >= capacity) forget(answers.keys().next().value ?? meetingId);
    answers.set(meetingId, asked);
    return asked;
  };
  return Object.assign(lookup, { forget, known: (meetingId: string) => settled.get(meetingId) });
}
