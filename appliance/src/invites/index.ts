// The invites plugin: turns meeting changes into outbox rows (in the same transaction), runs the
// dispatcher and the reminder schedule, and connects the mail and SMS adapters — to the hospital's
// relay and gateway, or, when SMTP_URL / SMPP_URL are unset, to built-in development sinks.
import { randomUUID } from 'node:crypto';
import type { Plugin, Server } from '@hapi/hapi';
import type { Knex } from 'knex';
import { isSqlite } from '../db/knex.ts';
import { afterCommit, type EventName } from '../events.ts';
import type { CapturedMail, CapturedSms, Sink } from './embedded.ts';
import { withoutRecipient } from './delivery.ts';
import { Dispatcher, type StatusChange } from './dispatcher.ts';
import { fallbackToEmail, type SecretRenewal } from './fallback.ts';
import { MailSender, type MailState } from './mail.ts';
import { messageFacts } from './facts.ts';
import {
  movedSinceClaimed,
  outboxHook,
  tellOfMoveSince,
  tellParticipant,
  untoldTime,
  type Composer,
} from './messages.ts';
import { findMeeting } from '../meetings/index.ts';
import {
  enqueue,
  reachedPerson,
  releaseAllClaims,
  sentToProxy,
  withdrawAnsweredFallbacks,
  type Channel,
  type MessageKind,
} from './outbox.ts';
import { provideCodeMessenger } from '../entry/index.ts';
import { Reminders } from './reminders.ts';
import { routes } from './routes.ts';
import { linkHealth, messageIdsOption, SmsSender, type SmsState } from './sms.ts';
import { Templates, type TemplateProblem } from './templates.ts';
import { must } from '../common/must.ts';
import { findStaff } from '../staff/index.ts';
import { addParticipantFacts, onMeetingChange } from '../meetings/index.ts';

declare module '../events.ts' {
  interface DomainEvents {
    /** A message's status changed: the meeting page and the connection log follow. */
    'outbox.status': {
      messageId: string;
      meetingId: string | null;
      participantId: string | null;
      channel: Channel;
      kind: MessageKind;
      status: 'sent' | 'delivered' | 'failed' | 'retrying';
      reason?: string;
      /** When the message was queued (the connection log's `message_queued`). */
      queuedAt: Date;
      /** Whom on the participant's row it was for: the participant, or their proxy. */
      person: 'main' | 'proxy';
    };
    /** An admin had the templates read again: every process reads its TEMPLATES_DIR again. */
    'templates.reload': { reloadId: string };
  }
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    invites: {
      /** What the built-in sinks captured, for the admin outbox page (empty with a real relay/gateway). */
      captured(): { mail: CapturedMail[]; sms: CapturedSms[] };
      templates: Templates;
      /** Reads TEMPLATES_DIR again (templates.ts), logging why; by an admin: in every process. */
      reloadTemplates(by: 'signal' | 'admin'): readonly TemplateProblem[];
      dispatcher(): Dispatcher | undefined;
      reminders: Reminders;
      /** The mail and SMS adapters' live state, for the admin status page (undefined before start). */
      adapters(): { mail?: MailState; sms?: SmsState; mailEmbedded: boolean; smsEmbedded: boolean };
      /** "We are waiting for you": to the participant's SMS (or e-mail), with their link. */
      nudge(meetingId: string, participantId: string): Promise<number>;
      secretPaths: Map<string, (secret: string) => string>;
      secretRenewals: Map<string, SecretRenewal>;
    };
  }
}

/** Meeting changes that enqueue messages: the dispatcher looks at once instead of at its next poll. */
const enqueueingEvents: EventName[] = [
  'meeting.booked',
  'meeting.rescheduled',
  'meeting.cancelled',
  'participant.added',
  'participant.removed',
  'invitation.resend',
];

export const plugin: Plugin<void> = {
  name: 'invites',
  dependencies: ['db', 'staff', 'meetings', 'entry'],
  register(server: Server) {
    const { config, db, bus } = server.app;
    const log = (level: 'info' | 'warn' | 'error', message: string) => server.log([level, 'invites'], message);
    const templates = new Templates(config.templatesDir, (m) => log('warn', m));
    const reload = (why: string) => {
      const problems = templates.reload();
      log('info', `template overrides reloaded ${why}: ${templates.overrideCount} in use, ${problems.length} not used`);
      return problems;
    };
    // An admin's reload reaches the other processes on this PostgreSQL too (the one that sends a
    // message may be another than the one that served the page); the process where it was asked
    // has read them already.
    const reloadedHere = new Set<string>();
    bus.follow('templates.reload', ({ reloadId }) => {
      if (!reloadedHere.delete(reloadId)) reload('by an admin (in another process)');
    });
    const reloadTemplates = (by: 'signal' | 'admin') => {
      if (by === 'signal') return reload('on SIGHUP');
      const problems = reload('by an admin');
      const reloadId = randomUUID();
      reloadedHere.add(reloadId);
      bus.emit('templates.reload', { reloadId });
      return problems;
    };
    let mailSink: Sink<CapturedMail> | undefined;
    let smsc: Sink<CapturedSms> | undefined;
    let mail: MailSender | undefined;
    let sms: SmsSender | undefined;
    let gatewayUrl: string | undefined;
    let dispatcher: Dispatcher | undefined;
    const secretPaths = new Map<string, (secret: string) => string>();
    const secretRenewals = new Map<string, SecretRenewal>();
    const composer: Composer = {
      dataKey: config.dataKey,
      roomGraceMinutes: config.roomGraceMinutes,
      staffMeetingPath: (meetingId) => `/meetings/${meetingId}`,
      colleagueEmail: async (staffId, trx) => (await findStaff(trx, { id: staffId }))?.email ?? null,
    };
    const reminders = new Reminders(db, composer, config.reminderOffsetsMinutes, log);
    // Entry's SMS codes go before every other message: a person is waiting for this one.
    provideCodeMessenger(server, {
      queue: async (trx, code, now) => {
        await enqueue(
          trx,
          config.dataKey,
          {
            channel: 'sms',
            kind: 'sms_code',
            recipient: code.recipient,
            language: code.language,
            meetingId: code.meetingId,
            participantId: code.participantId,
            data: { minutes: code.minutes, person: code.person },
            secret: code.code,
            priority: 10,
          },
          now,
        );
      },
      queued: () => dispatcher?.notify(),
    });
    onMeetingChange(server, outboxHook(composer));
    addParticipantFacts(server, messageFacts(db));
    for (const event of enqueueingEvents) bus.on(event, () => dispatcher?.notify());

    // What a batch of status changes causes is written in the dispatcher's transaction for that
    // batch (ARCHITECTURE.md, the data path): one commit for the outbox's rows, the connection log,
    // the participants' statuses and any e-mail fallback; the bus is heard once it has committed.
    const withinBatch = async (trx: Knex.Transaction, changes: StatusChange[]) => {
      await bus.emitAllIn(
        trx,
        'outbox.status',
        changes.map(({ message, status, reason }) => ({
          messageId: message.id,
          meetingId: message.meetingId,
          participantId: message.participantId,
          channel: message.channel,
          kind: message.kind,
          status,
          reason: reason && withoutRecipient(reason, message.recipient),
          queuedAt: message.createdAt,
          person: sentToProxy(message) ? ('proxy' as const) : ('main' as const),
        })),
      );
      // Each message as the batch left it: one sent or delivered may have reached its person.
      const recorded = changes.flatMap(({ message, status }) =>
        status === 'retrying' ? [] : [{ ...message, status }],
      );
      await bus.emitAllIn(
        trx,
        'participant.status',
        recorded.flatMap((message) =>
          message.participantId &&
          message.meetingId &&
          message.kind === 'invitation' &&
          // An e-mail has no receipt: accepted by the relay is as far as we can see.
          reachedPerson(message)
            ? [{ meetingId: message.meetingId, participantId: message.participantId, status: 'delivered' as const }]
            : [],
        ),
      );
      // An e-mail still waiting in place of an SMS that did not arrive goes no more once a later
      // message reached the person (outbox.ts); one that cannot be withdrawn so is left, and logged.
      await trx
        .transaction((savepoint) => withdrawAnsweredFallbacks(savepoint, recorded))
        .catch((error: Error) => log('error', `outbox: e-mails answered by a later message: ${error.message}`));
      // A message that told the meeting's time and went while the meeting was moved again told the
      // time it was claimed with: the latest follows it (messages.ts). Like a fallback, one that
      // cannot be written is rolled back alone and logged.
      const sent = changes.filter((c) => c.status === 'sent').map((c) => c.message);
      for (const message of await movedSinceClaimed(trx, sent)) {
        await trx
          .transaction((savepoint) => tellOfMoveSince(savepoint, composer, message))
          .then(
            (count) => count > 0 && afterCommit(trx, () => dispatcher?.notify()),
            (error: Error) => log('error', `outbox: the latest time after ${message.id}: ${error.message}`),
          );
      }
      // A new-time message that failed told nothing: a later one still waiting names the time told before it.
      for (const { message } of changes.filter((c) => c.status === 'failed' && c.message.kind === 'rescheduled'))
        await trx
          .transaction((savepoint) => untoldTime(savepoint, message))
          .catch((error: Error) => log('error', `outbox: the earlier time after ${message.id}: ${error.message}`));
      for (const { message } of changes.filter((c) => c.status === 'failed' && c.message.channel === 'sms')) {
        // An SMS that did not arrive goes by e-mail when the person gave an address; otherwise the
        // failed message stands on the meeting page as a task: call the participant. A fallback that
        // cannot be written is rolled back alone (a savepoint) and logged: the batch still commits.
        await fallbackToEmail(
          trx,
          config.dataKey,
          message,
          config.roomGraceMinutes,
          secretRenewals.get(message.kind),
        ).then(
          (id) => id && afterCommit(trx, () => dispatcher?.notify()),
          (error: Error) => log('error', `outbox: e-mail fallback for ${message.id}: ${error.message}`),
        );
      }
    };

    server.ext('onPreStart', async () => {
      let smtpUrl = config.mail.smtpUrl;
      let smppUrl = config.sms.smppUrl;
      // The development sinks (and smtp-server with them) are loaded only when they are used.
      const embedded = !smtpUrl || !smppUrl ? await import('./embedded.ts') : undefined;
      if (!smtpUrl) {
        mailSink = await embedded!.startEmbeddedMailSink();
        smtpUrl = mailSink.url;
      }
      if (!smppUrl) {
        smsc = await embedded!.startEmbeddedSmsc();
        smppUrl = smsc.url;
      }
      mail = new MailSender({ url: smtpUrl, from: config.mail.from, ca: config.tlsCa });
      gatewayUrl = smppUrl;
      // With SQLite only this process sends (it holds the file: db/hold.ts): whatever a killed
      // process left "sending" is due now.
      if (isSqlite(db)) {
        const released = await releaseAllClaims(db);
        if (released > 0)
          log('warn', `outbox: ${released} message(s) left mid-send by a stopped process are queued again`);
      }
      dispatcher = new Dispatcher({
        db,
        dataKey: config.dataKey,
        publicUrl: config.publicUrl,
        mailFrom: config.mail.from,
        templates,
        mail,
        secretPaths,
        withinBatch,
        log,
      });
    });
    // Every process sends e-mail (rows are claimed, never sent twice). SMS go through one bind to the
    // gateway, the leading process's (db/leader.ts): its throttle is kept in one place, so the
    // gateway never sees it exceeded, and an account that allows one bind has one. The others leave
    // SMS rows to it; when it dies, the next leader binds and sends them.
    server.app.leader.run('sms', () => {
      const link = new SmsSender({
        url: must(gatewayUrl, 'the SMS gateway URL'),
        sender: config.sms.sender,
        throttle: config.sms.throttle,
        messageIds: messageIdsOption(config.sms.messageIds),
        ca: config.tlsCa,
        onReceipt: (receipt) => dispatcher?.receipt(receipt),
        log,
      });
      sms = link;
      void dispatcher?.useSms(link);
      return async () => {
        await dispatcher?.useSms(undefined);
        await link.close();
        if (sms === link) sms = undefined;
      };
    });
    server.ext('onPostStart', () => dispatcher!.start());
    server.app.leader.run('reminders', () => {
      reminders.start(() => dispatcher?.notify());
      return () => reminders.stop();
    });
    server.ext('onPreStop', async () => {
      await dispatcher?.stop();
      await sms?.close();
      mail?.close();
      await smsc?.close();
      await mailSink?.close();
    });

    server.app.health.add('mail', async () => {
      if (!config.mail.smtpUrl) return { ok: true, detail: 'embedded development mail sink' };
      const probe = mail ?? new MailSender({ url: config.mail.smtpUrl, from: config.mail.from, ca: config.tlsCa });
      try {
        await probe.verify();
        return { ok: true, detail: 'SMTP relay answers' };
      } finally {
        if (probe !== mail) probe.close();
      }
    });
    server.app.health.add('sms', async () => {
      if (!config.sms.smppUrl) return { ok: true, detail: 'embedded development SMSC' };
      if (!sms)
        return {
          ok: true,
          detail: server.app.leader.leading
            ? 'SMPP gateway configured (bound when the appliance runs)'
            : 'the leading process holds the bind to the SMPP gateway',
        };
      return linkHealth(sms.state());
    });

    server.expose('secretPaths', secretPaths);
    server.expose('secretRenewals', secretRenewals);
    server.expose('captured', () => ({ mail: mailSink?.messages() ?? [], sms: smsc?.messages() ?? [] }));
    server.expose('templates', templates);
    server.expose('reloadTemplates', reloadTemplates);
    server.expose('dispatcher', () => dispatcher);
    server.expose('reminders', reminders);
    server.expose('adapters', () => ({
      mail: mail?.state(),
      sms: sms?.state(),
      mailEmbedded: !config.mail.smtpUrl,
      smsEmbedded: !config.sms.smppUrl,
    }));
    server.expose('nudge', async (meetingId: string, participantId: string) => {
      const sent = await db.transaction(async (trx) => {
        const meeting = await findMeeting(trx, meetingId);
        const participant = meeting?.participants.find((p) => p.id === participantId);
        // The meeting has begun and they are waited for: ahead of invitations and reminders waiting
        // for the gateway (a backlog after an outage), behind only SMS codes, which a person types.
        return meeting && participant
          ? tellParticipant(trx, composer, meeting, participant, 'nudge', {}, { withLink: true, priority: 5 })
          : 0;
      });
      dispatcher?.notify();
      return sent;
    });
    server.route(routes(templates));
  },
};

/** Something was queued outside a meeting change: the dispatcher looks at once, not at its next poll. */
export const notifyDispatcher = (server: Server): void => server.plugins.invites.dispatcher()?.notify();

/** "We are waiting for you": to the participant's SMS (or e-mail), with their link. Returns how many messages. */
export const nudge = (server: Server, meetingId: string, participantId: string): Promise<number> =>
  server.plugins.invites.nudge(meetingId, participantId);

/** The mail and SMS adapters' live state, for the admin status page (undefined before start). */
export const adapterStates = (server: Server) => server.plugins.invites.adapters();

/** The message templates in use, and why any of hospital IT's overrides is not: the status page and `samverka check`. */
export const messageTemplates = (server: Server): Templates => server.plugins.invites.templates;

/**
 * Reads hospital IT's template overrides again and tries them as at start (SIGHUP, the status page's
 * "Reload templates"): returns why any is not used. An admin's reload reaches every process.
 */
export const reloadTemplates = (server: Server, by: 'signal' | 'admin'): readonly TemplateProblem[] =>
  server.plugins.invites.reloadTemplates(by);

/**
 * A message kind whose secret opens another domain's page: its link is `path(secret)`. The outbox
 * keeps no secret once a message is sent, so an e-mail in place of such an SMS that failed needs a
 * fresh one of that domain's: `renew` makes it (undefined: nothing left to send, e.g. answered).
 */
export function addSecretLink(
  server: Server,
  kind: MessageKind,
  path: (secret: string) => string,
  renew: SecretRenewal,
): void {
  server.plugins.invites.secretPaths.set(kind, path);
  server.plugins.invites.secretRenewals.set(kind, renew);
}

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export {
  messagesOf,
  meetingsOf,
  queueStats,
  recentMessages,
  withdrawn,
  findMessage,
  eraseMessageContacts,
  eraseParticipantMessages,
  sentToProxy,
  enqueue,
} from './outbox.ts';
export { addressesOf, meetingData, recipientsOf } from './messages.ts';
export { templateProblem } from './routes.ts';
export { describeProblem } from './templates.ts';
