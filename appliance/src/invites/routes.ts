// The admin outbox page ("Utkorg"), the template preview, and each meeting's messages in the API.
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { linkify } from '../common/linkify.ts';
import { apiRoute } from '../http/api.ts';
import { languageOf, t } from '../http/i18n.ts';
import { objectOf, route } from '../http/route.ts';
import { formatStamp } from '../common/clock.ts';
import {
  channels,
  messageKinds,
  meetingsOf,
  messagesOf,
  queueStats,
  recentMessages,
  type Channel,
  type MessageKind,
  type OutboxMessage,
} from './outbox.ts';
import { sampleData, sampleRecipients, Templates, type SampleRecipient, type TemplateProblem } from './templates.ts';
import { withoutRecipient } from './delivery.ts';
import { reasonText, statusText } from './facts.ts';
import { encodeSms } from './gsm.ts';
import type { Language } from '../common/language.ts';
import { meetingFor, seesContactDetails } from '../meetings/index.ts';

/** Where the previewed template comes from, in the admin's words, and why an override of it is not used. */
function templateSource(templates: Templates, lang: Language, channel: Channel, language: Language, kind: MessageKind) {
  const { override, problem } = templates.source(channel, language, kind);
  return {
    text: override
      ? t(lang, 'invites.templates.source.override', { file: override })
      : t(lang, 'invites.templates.source.builtIn'),
    problem: problem && templateProblem(lang, problem).text,
  };
}

/** Why an override in TEMPLATES_DIR is not used, in the admin's language. */
export function templateProblem(lang: Language, p: TemplateProblem): { file: string; text: string } {
  const recipients = (of: SampleRecipient[]) =>
    of.map((r) => t(lang, `invites.templates.recipient.${r}`).toLowerCase()).join('; ');
  const text = (): string => {
    switch (p.problem) {
      case 'unreadable':
        return t(lang, 'invites.templates.problem.unreadable', { file: p.file, detail: p.detail });
      case 'leavesOut':
        return t(lang, 'invites.templates.problem.leavesOut', {
          file: p.file,
          fields: p.fields.map((f) => `{{${f}}}`).join(', '),
          recipients: recipients(p.recipients),
        });
      case 'noSubject':
        return t(lang, 'invites.templates.problem.noSubject', { file: p.file, recipients: recipients(p.recipients) });
      case 'unknown':
        return t(lang, 'invites.templates.problem.unknown', { file: p.file });
    }
  };
  return { file: p.file, text: text() };
}

/** A message as the API shows it; the number or address it went to only to those who see contact details. */
const publicMessage = (m: OutboxMessage, contacts: boolean) => ({
  id: m.id,
  participantId: m.participantId,
  channel: m.channel,
  kind: m.kind,
  recipient: contacts ? m.recipient : null,
  status: m.status,
  attempts: m.attempts,
  // A relay's reply may repeat the address ("550 5.1.1 <eva@…>: Recipient address rejected").
  lastError: contacts || m.lastError === null ? m.lastError : withoutRecipient(m.lastError, m.recipient),
  fallbackOf: m.fallbackOf,
  createdAt: m.createdAt,
  sentAt: m.sentAt,
  deliveredAt: m.deliveredAt,
  failedAt: m.failedAt,
});

export function routes(templates: Templates): ServerRoute[] {
  return [
    route({
      method: 'GET',
      path: '/admin/outbox',
      options: { auth: { strategy: 'session', scope: ['admin'] } },
      async handler(request, h) {
        const { db } = request.server.app;
        const lang = languageOf(request);
        const messages = await recentMessages(db, 200);
        // The page shows each message's address: the meetings it shows are named, so that each
        // patient's log extract finds this look (as it finds the calendar's, audit/store.ts).
        await request.audit('outbox.read', {
          targetType: 'outbox',
          details: { count: messages.length, meetingIds: meetingsOf(messages) },
        });
        const captured = request.server.plugins.invites.captured();
        const mailEmbedded = !request.server.app.config.mail.smtpUrl;
        const smsEmbedded = !request.server.app.config.sms.smppUrl;
        return h.view('invites/outbox', {
          title: t(lang, 'invites.outbox.title'),
          styles: ['invites.css'],
          stats: await queueStats(db),
          messages: messages.map((m) => ({
            ...m,
            at: m.createdAt.toISOString(),
            created: formatStamp(m.createdAt, lang),
            statusText: statusText(lang, m),
            lastError: reasonText(lang, m),
            kindText: t(lang, `invites.kind.${m.kind}`),
            channelText: t(lang, `invites.channel.inPhrase.${m.channel}`),
          })),
          // Each channel without its real server sends to the embedded one; only those are
          // captured here, so the page shows the section of each such channel and no other.
          captured: mailEmbedded || smsEmbedded,
          mailEmbedded,
          smsEmbedded,
          capturedIntro: t(
            lang,
            `invites.outbox.capturedIntro.${mailEmbedded ? (smsEmbedded ? 'both' : 'mail') : 'sms'}`,
          ),
          mails: captured.mail
            .slice()
            .reverse()
            .map((m) => ({ ...m, body: linkify(m.text ?? '') })),
          sms: captured.sms
            .slice()
            .reverse()
            .map((m) => ({ ...m, body: linkify(m.text) })),
        });
      },
    }),
    route({
      method: 'GET',
      path: '/admin/templates',
      options: {
        auth: { strategy: 'session', scope: ['admin'] },
        validate: {
          query: objectOf<{ channel: Channel; language: Language; kind: MessageKind; recipient: SampleRecipient }>({
            channel: Joi.string<Channel>()
              .valid(...channels)
              .default('email'),
            language: Joi.string<Language>().valid('sv', 'en').default('sv'),
            kind: Joi.string<MessageKind>()
              .valid(...messageKinds)
              .default('invitation'),
            recipient: Joi.string<SampleRecipient>()
              .valid(...sampleRecipients)
              .default('email'),
          }),
        },
      },
      handler(request, h) {
        const lang = languageOf(request);
        const { channel, language, kind, recipient } = request.query;
        const data = sampleData(language, recipient);
        const kinds = Templates.kinds(channel);
        let preview: Record<string, unknown>;
        if (!kinds.includes(kind)) {
          preview = { missing: true };
        } else if (channel === 'email') {
          const mail = templates.email(language, kind, data);
          preview = { subject: mail.subject, body: linkify(mail.text), html: mail.html };
        } else {
          // What the SMS costs: its size and parts as the SMS adapter sends them (encodeSms), in
          // septets (€ and the other extension characters take two) or, once one character is
          // outside the GSM alphabet (a typographic apostrophe, an emoji), UCS-2 units, 70 to a part.
          const text = templates.sms(language, kind, data);
          const sms = encodeSms(text);
          preview = {
            body: linkify(text),
            size: t(lang, sms.dataCoding === 0 ? 'invites.templates.sizeGsm' : 'invites.templates.sizeUcs2', {
              n: sms.units,
              parts: sms.parts.length,
            }),
          };
        }
        return h.view('invites/templates', {
          title: t(lang, 'invites.templates.title'),
          styles: ['invites.css'],
          source: kinds.includes(kind) ? templateSource(templates, lang, channel, language, kind) : undefined,
          problems: templates.problems.map((p) => templateProblem(lang, p)),
          channel,
          language,
          kind,
          channels: channels.map((c) => ({
            value: c,
            label: t(lang, `invites.channel.${c}`),
            selected: c === channel,
          })),
          languages: [
            { value: 'sv', label: 'Svenska', selected: language === 'sv' },
            { value: 'en', label: 'English', selected: language === 'en' },
          ],
          kinds: messageKinds.map((k) => ({ value: k, label: t(lang, `invites.kind.${k}`), selected: k === kind })),
          recipients: sampleRecipients.map((r) => ({
            value: r,
            label: t(lang, `invites.templates.recipient.${r}`),
            selected: r === recipient,
          })),
          preview,
        });
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/meetings/{id}/messages',
      options: {
        description: "A meeting's messages and what happened to each",
        notes:
          'Invitations, reminders, changes and codes, with status (queued, sending, sent, delivered, failed), attempts and the reason of a failure.',
        validate: { params: objectOf<{ id: string }>({ id: Joi.string().guid().required() }) },
      },
      handler: async (request) => {
        const staff = request.auth.credentials.user!;
        const meeting = await meetingFor(request.server, staff, request.params.id);
        const messages = await messagesOf(request.server.app.db, { meetingId: meeting.id });
        await request.audit('meeting.messages.read', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
        });
        return messages.map((m) => publicMessage(m, seesContactDetails(staff)));
      },
    }),
  ];
}
