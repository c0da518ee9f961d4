// How staff reach a participant who has not joined (the routine's five-minute rule): the numbers to
// call, each saying whose it is, and the channel a "we are waiting for you" goes out on.
import { t, type Language } from '../http/i18n.ts';
import { displayPhone, invitedAt, type Participant } from '../meetings/index.ts';
import type { Presence } from './store.ts';

/**
 * The channel a "we are waiting for you" goes out on, as the invitation did (meetings' invitedAt,
 * for each person on the row): SMS when the patient or the proxy is reached by SMS, else e-mail
 * (e-mail guests, colleagues). Null: neither. A row whose patient is reached by SMS and proxy by
 * e-mail alone says SMS, though each gets the message on their own channel.
 */
export function nudgeChannel(p: Participant): 'sms' | 'email' | null {
  const channels = [p, ...(p.proxy ? [p.proxy] : [])].map((person) => invitedAt(person)?.channel);
  if (channels.includes('sms')) return 'sms';
  if (channels.includes('email') || p.kind === 'colleague') return 'email';
  return null;
}

/** How the panel names the proxy beside the patient: "Anna Lind (ombud)". */
export const proxyLabel = (lang: Language, p: Participant): string | undefined =>
  p.proxy ? t(lang, 'rooms.staff.proxyPerson', { name: p.proxy.name }) : undefined;

/**
 * Who of a participant is in the room now (a patient and their proxy may both be, one person on two
 * devices twice), each with their nick and, where the row has a proxy, their name; a presence from
 * before persons were recorded names nobody. `whoNames`: the names, for a line that says them.
 */
export function inRoom(
  lang: Language,
  p: Participant,
  presence: Presence[],
): { people: { nick: string; name: string }[]; whoNames: string } {
  const here = presence
    .filter((x) => x.participantId === p.id && !x.leftAt)
    .map((x) => ({
      nick: x.nick,
      who: p.proxy && x.person ? (x.person === 'proxy' ? proxyLabel(lang, p) : p.name) : undefined,
    }));
  return {
    people: here.map(({ nick, who }) => ({ nick, name: who ?? p.name })),
    whoNames: [...new Set(here.flatMap(({ who }) => (who ? [who] : [])))].join(', '),
  };
}

/** The numbers to call, each with whose it is when there are two (the patient's and the proxy's). */
export function phonesOf(lang: Language, p: Participant): { who?: string; text: string; uri: string }[] {
  const phones = [];
  if (p.mobile)
    phones.push({ who: p.proxy?.mobile ? p.name : undefined, text: displayPhone(p.mobile), uri: `tel:${p.mobile}` });
  if (p.proxy?.mobile)
    phones.push({
      who: proxyLabel(lang, p),
      text: displayPhone(p.proxy.mobile),
      uri: `tel:${p.proxy.mobile}`,
    });
  return phones;
}
