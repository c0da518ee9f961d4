// How staff reach a participant who has not joined (the routine's five-minute rule): the numbers to
// call, each saying whose it is, and the channel a "we are waiting for you" goes out on.
import { t, type Language } from '../http/i18n.ts';
import { displayPhone, type Participant } from '../meetings/index.ts';

/**
 * The channel a "we are waiting for you" goes out on, as the invitation did: SMS to anyone with a
 * mobile number (the patient or the proxy), else e-mail (e-mail guests, colleagues). Null: neither.
 */
export function nudgeChannel(p: Participant): 'sms' | 'email' | null {
  if (p.mobile || p.proxy?.mobile) return 'sms';
  if (p.email || p.proxy?.email || p.kind === 'colleague') return 'email';
  return null;
}

/** How the panel names the proxy beside the patient: "Anna Lind (ombud)". */
export const proxyLabel = (lang: Language, p: Participant): string | undefined =>
  p.proxy ? t(lang, 'rooms.staff.proxyPerson', { name: p.proxy.name }) : undefined;

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
