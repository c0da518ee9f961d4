// Links in a message made clickable, the way the recipient's mail or SMS program shows them.
import Handlebars from 'handlebars';

const url = /(https?:\/\/[^\s<]+)/g;

/** One line of plain text, HTML-escaped, its links as anchors. */
export const linkifyLine = (line: string): string =>
  Handlebars.Utils.escapeExpression(line).replace(url, '<a href="$1">$1</a>');

/** Escaped text with its links clickable and its line breaks kept. */
export const linkify = (text: string): Handlebars.SafeString =>
  new Handlebars.SafeString(text.split('\n').map(linkifyLine).join('<br>'));
