// Links in a message made clickable, the way the recipient's mail or SMS program shows them.
import Handlebars from 'handlebars';

const url = /(https?:\/\/[^\s<]+)/g;

/** One line of plain text, HTML-escaped, its links as anchors. */
export const linkifyLine = (line: string): string =>
  Handlebars.Utils.escapeExpression(line).replace(url, '<a href="$1">$1</a>');

/** What a tel: link dials for a phone number as written ("010-123 45 67" → "0101234567"). */
export const dialString = (phone: string): string => phone.trim().replace(/(?!^\+)[^\d]/g, '');

/**
 * Escaped HTML with every `phone` in it a tel: link that keeps the number on one line: a phone
 * number broken across lines ("010-123 45" / "67") is misdialled. Mail has no stylesheet, hence the
 * style in the element.
 */
export function linkifyPhone(html: string, phone: unknown): string {
  if (typeof phone !== 'string' || phone.trim() === '') return html;
  const shown = Handlebars.Utils.escapeExpression(phone.trim());
  const dial = Handlebars.Utils.escapeExpression(dialString(phone));
  return html.split(shown).join(`<a href="tel:${dial}" style="white-space:nowrap">${shown}</a>`);
}

/** Escaped text with its links clickable and its line breaks kept. */
export const linkify = (text: string): Handlebars.SafeString =>
  new Handlebars.SafeString(text.split('\n').map(linkifyLine).join('<br>'));
