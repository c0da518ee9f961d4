// A meeting's care unit, for the events that do not carry it (a message's status, a no-show): the
// calendars follow units. The unit is set when the meeting is booked and never changes, so it is
// remembered for the most recent meetings, and so is a lookup while it runs: the first burst of a
// new meeting's reports (each invitation queued, sending, sent, reported in one tick) asks the
// database once, not once each.

/** `find` answers a meeting's unit (undefined: no such meeting, which is not remembered). */
export function rememberedUnits(
  find: (meetingId: string) => Promise<string | undefined>,
  capacity = 10_000,
): (meetingId: string) => Promise<string | undefined> {
  const units = new Map<string, Promise<string | undefined>>();
  return (meetingId) => {
    const known = units.get(meetingId);
    if (known) return known;
    const lookup = find(meetingId).then(
      (unitId) => {
        if (unitId === undefined) units.delete(meetingId);
        return unitId;
      },
      (error: unknown) => {
        units.delete(meetingId);
        throw error;
      },
    );
    if (units.size >= capacity) units.delete(units.keys().next().value ?? meetingId);
    units.set(meetingId, lookup);
    return lookup;
  };
}
