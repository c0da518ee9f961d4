// The system status page: for each part, how it is configured (secrets masked) and how it is right
// now — the same readiness checks as /health/ready and `samverka check`, the mail and SMS adapters'
// own state, and the outbox queue with the messages that failed in the last 24 hours.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { maskUrl, type Config } from '../config.ts';
import { isSqlite, rawRows, type Db } from '../db/knex.ts';
import { listMigrations } from '../db/migrations.ts';
import type { DbBigint } from '../db/values.ts';
import { must } from '../common/must.ts';
import type { PartState } from '../common/readiness.ts';
import { jitsiWebState } from '../rooms/index.ts';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { queueStats, recentMessages, withdrawn } from '../invites/index.ts';
import { adminOnly } from './audit-pages.ts';
import { clinicTime } from './extract.ts';
import { adapterStates, meetingsOf, messageTemplates, reloadTemplates, templateProblem } from '../invites/index.ts';
import { objectOf, route } from '../http/route.ts';
import * as schemas from './schemas.ts';

interface Fact {
  label: string;
  value: string;
}
export interface PartStatus {
  part: string;
  name: string;
  /** undefined when the part has no live check (not configured, or checked elsewhere). */
  state?: PartState;
  config: Fact[];
  live: Fact[];
  /** false when the part is switched off in the configuration. */
  configured?: boolean;
  /** A button under the part: what it does (a POST to `action`) and its words. */
  form?: { action: string; label: string };
}

const when = (lang: Language, at: Date | undefined) => (at ? clinicTime(at) : t(lang, 'admin.status.never'));

async function databaseFacts(db: Db, config: Config, lang: Language): Promise<{ config: Fact[]; live: Fact[] }> {
  const sqlite = isSqlite(db);
  let size: number | undefined;
  if (sqlite) {
    const file = resolve(config.databaseUrl.slice('sqlite:'.length));
    size = ['', '-wal'].reduce((sum, suffix) => {
      try {
        return sum + statSync(file + suffix).size;
      } catch {
        return sum;
      }
    }, 0);
  } else {
    const [row] = await rawRows<{ size: DbBigint }>(db, 'select pg_database_size(current_database()) as size');
    size = Number(must(row, 'the size query returns one row').size);
  }
  const { applied: done, pending } = await listMigrations(db);
  return {
    config: [
      { label: t(lang, 'admin.status.driver'), value: sqlite ? 'SQLite (better-sqlite3)' : 'PostgreSQL (pg)' },
      { label: 'DATABASE_URL', value: sqlite ? config.databaseUrl : maskUrl(config.databaseUrl) },
    ],
    live: [
      { label: t(lang, 'admin.status.size'), value: `${(size / 1024 / 1024).toFixed(1)} MB` },
      {
        label: t(lang, 'admin.status.migrations'),
        value: t(lang, 'admin.status.migrationsValue', {
          applied: done.length,
          latest: done.at(-1) ?? '–',
          pending: pending.length,
        }),
      },
    ],
  };
}

export async function systemStatus(request: Request): Promise<PartStatus[]> {
  const { config, db, health } = request.server.app;
  const lang = languageOf(request);
  const checks = await health.run();
  const adapters = adapterStates(request.server);
  const off = t(lang, 'admin.status.off');
  const parts: PartStatus[] = [];

  parts.push({
    part: 'database',
    name: t(lang, 'admin.status.part.database'),
    state: checks.parts.database,
    ...(await databaseFacts(db, config, lang)),
  });

  const mail = adapters?.mail;
  parts.push({
    part: 'mail',
    name: t(lang, 'admin.status.part.mail'),
    state: checks.parts.mail,
    config: [
      {
        label: 'SMTP_URL',
        value: config.mail.smtpUrl ? maskUrl(config.mail.smtpUrl) : t(lang, 'admin.status.embeddedMail'),
      },
      { label: 'MAIL_FROM', value: config.mail.from },
    ],
    live: [
      { label: t(lang, 'admin.status.lastSuccess'), value: when(lang, mail?.lastSentAt) },
      { label: t(lang, 'admin.status.lastError'), value: mail?.lastError ?? '–' },
    ],
  });

  const sms = adapters?.sms;
  parts.push({
    part: 'sms',
    name: t(lang, 'admin.status.part.sms'),
    state: checks.parts.sms,
    config: [
      {
        label: 'SMPP_URL',
        value: config.sms.smppUrl ? maskUrl(config.sms.smppUrl) : t(lang, 'admin.status.embeddedSms'),
      },
      { label: 'SMS_SENDER', value: config.sms.sender },
      { label: 'SMPP_THROTTLE', value: t(lang, 'admin.status.perSecond', { n: config.sms.throttle }) },
    ],
    live: sms
      ? [
          { label: t(lang, 'admin.status.bound'), value: t(lang, sms.bound ? 'admin.status.yes' : 'admin.status.no') },
          { label: t(lang, 'admin.status.window'), value: `${sms.window.inUse} / ${sms.window.size}` },
          { label: t(lang, 'admin.status.queued'), value: String(sms.queued) },
          { label: t(lang, 'admin.status.lastReceipt'), value: when(lang, sms.lastReceiptAt) },
          { label: t(lang, 'admin.status.lastError'), value: sms.lastError ?? '–' },
        ]
      : [],
  });

  // Hospital IT's own message templates: an override that cannot be used is sent as the built-in
  // one (templates.ts), which IT should hear of here rather than from a patient.
  const templates = messageTemplates(request.server);
  parts.push({
    part: 'templates',
    name: t(lang, 'admin.status.part.templates'),
    state: {
      ok: templates.problems.length === 0,
      detail: templates.problems.map((p) => templateProblem(lang, p).text).join(' '),
    },
    config: [{ label: 'TEMPLATES_DIR', value: templates.overridesDir ?? t(lang, 'admin.status.builtInTemplates') }],
    live: templates.overridesDir
      ? [
          { label: t(lang, 'admin.status.overridesUsed'), value: String(templates.overrideCount) },
          { label: t(lang, 'admin.status.overridesUnused'), value: String(templates.problems.length) },
        ]
      : [],
    // IT who changed a file reads them again here (or with SIGHUP) rather than restarting.
    form: templates.overridesDir
      ? { action: '/admin/templates/reload', label: t(lang, 'admin.status.reloadTemplates') }
      : undefined,
  });

  parts.push({
    part: 'xmpp',
    name: t(lang, 'admin.status.part.xmpp'),
    state: checks.parts.xmpp,
    configured: !!config.xmpp,
    config: config.xmpp
      ? [
          { label: 'XMPP_SERVICE', value: maskUrl(config.xmpp.service) },
          { label: 'XMPP_USER', value: `${config.xmpp.user}@${config.xmpp.domain}` },
          { label: 'XMPP_MUC_DOMAIN', value: config.xmpp.mucDomain },
        ]
      : [{ label: 'XMPP_SERVICE', value: off }],
    live: [],
  });

  parts.push({
    part: 'jitsi',
    name: 'Jitsi Meet',
    configured: !!config.jitsi,
    state: config.jitsi ? await jitsiWebState(config.jitsi.url) : undefined,
    config: config.jitsi
      ? [
          { label: 'JITSI_URL', value: config.jitsi.url },
          { label: 'JWT_APP_ID', value: config.jitsi.appId },
        ]
      : [{ label: 'JITSI_URL', value: off }],
    live: [],
  });

  parts.push({
    part: 'turn',
    name: 'TURN',
    state: checks.parts.turn,
    configured: !!config.turn,
    config: config.turn
      ? [{ label: 'TURN_URLS', value: config.turn.urls.join(', ') }]
      : [{ label: 'TURN_URLS', value: off }],
    live: [],
  });

  parts.push({
    part: 'identity provider',
    name: t(lang, 'admin.status.part.idp'),
    state: checks.parts['identity provider'],
    configured: !!config.oidc,
    config: config.oidc
      ? [
          { label: 'OIDC_ISSUER', value: config.oidc.issuer },
          { label: 'OIDC_CLIENT_ID', value: config.oidc.clientId },
        ]
      : [{ label: 'OIDC_ISSUER', value: off }],
    live: [],
  });

  // Parts another domain registered later that this page does not know by name still show.
  const known = new Set(parts.map((p) => p.part));
  for (const [part, state] of Object.entries(checks.parts)) {
    if (!known.has(part)) parts.push({ part, name: part, state, config: [], live: [] });
  }
  return parts;
}

/** The page's first line: a problem, or parts switched off (Jitsi off means no video), or all well. */
function statusSummary(lang: Language, parts: PartStatus[]): { ok: boolean; text: string } {
  const failing = parts.filter((p) => p.configured !== false && p.state && !p.state.ok);
  if (failing.length > 0)
    return { ok: false, text: t(lang, 'admin.status.someBad', { parts: failing.map((p) => p.name).join(', ') }) };
  const off = parts.filter((p) => p.configured === false);
  if (off.some((p) => p.part === 'jitsi'))
    return { ok: false, text: t(lang, 'admin.status.noVideo', { parts: off.map((p) => p.name).join(', ') }) };
  if (off.length > 0)
    return { ok: true, text: t(lang, 'admin.status.someOff', { parts: off.map((p) => p.name).join(', ') }) };
  return { ok: true, text: t(lang, 'admin.status.allOk') };
}

export const statusRoutes: ServerRoute[] = [
  route({
    method: 'GET',
    path: '/admin/status',
    options: { auth: adminOnly, validate: { query: objectOf<{ reloaded?: boolean }>({ reloaded: Joi.boolean() }) } },
    async handler(request, h) {
      const { db } = request.server.app;
      const lang = languageOf(request);
      const parts = await systemStatus(request);
      const dayAgo = Date.now() - 86_400_000;
      // The outbox page lists the latest 200 messages; the failures of one day are among the latest 1,000.
      const failed = (await recentMessages(db, 1000)).filter(
        (m) => m.status === 'failed' && !withdrawn(m) && m.failedAt && m.failedAt.getTime() >= dayAgo,
      );
      // The failures listed show their addresses: named by meeting for the patients' log extracts.
      await request.audit('status.read', { targetType: 'system', details: { meetingIds: meetingsOf(failed) } });
      return h.view('admin/status', {
        title: t(lang, 'admin.status.title'),
        styles: ['admin.css'],
        parts: parts.map((p) => ({
          ...p,
          off: p.configured === false,
          // A part switched off is not "working": it says so, and what that means for the clinic.
          stateText: t(
            lang,
            p.configured === false
              ? 'admin.status.notChecked'
              : p.state
                ? p.state.ok
                  ? 'admin.status.ok'
                  : 'admin.status.problem'
                : 'admin.status.noCheck',
          ),
          offMeans: p.configured === false ? t(lang, `admin.status.offMeans.${p.part}`) : undefined,
          // The checks' own words are for /health/ready and the log; the page shows them only for a problem.
          problem: p.configured !== false && p.state && !p.state.ok ? p.state.detail : undefined,
        })),
        summary: statusSummary(lang, parts),
        stats: await queueStats(db),
        failed: failed.map((m) => ({
          id: m.id,
          when: clinicTime(m.failedAt!),
          channel: m.channel,
          kind: t(lang, `invites.kind.${m.kind}`),
          recipient: m.recipient,
          reason: m.lastError ?? '',
        })),
        checkedAt: clinicTime(new Date()),
        notice: request.query.reloaded ? t(lang, 'admin.status.templatesReloaded') : undefined,
      });
    },
  }),
  route({
    // Reads TEMPLATES_DIR again and tries every override as the start does (in every process on
    // PostgreSQL); the status page then shows what is used and why the rest is not.
    method: 'POST',
    path: '/admin/templates/reload',
    options: { auth: adminOnly, validate: { payload: schemas.crumbOnly } },
    async handler(request, h) {
      const problems = reloadTemplates(request.server, 'admin');
      const templates = messageTemplates(request.server);
      await request.audit('templates.reload', {
        targetType: 'system',
        details: { used: templates.overrideCount, unused: problems.length },
      });
      return h.redirect('/admin/status?reloaded=true').code(303);
    },
  }),
];
