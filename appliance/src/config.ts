// The configuration contract (README.md, Configuration): environment variables, validated once at start.
// Invalid configuration stops the start with one line per problem, naming the variable and the fix.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Joi from 'joi';
import { isAddressOrBlock } from './http/client-address.ts';
import { must } from './common/must.ts';

export const projectRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..').replace(/[\\/]dist$/, '');

/**
 * How the SMS gateway writes message ids (SMPP_MESSAGE_IDS): `auto` reads an id with a letter a–f as
 * hexadecimal and one of digits only as decimal; the others name the radix of submit_sm_resp's ids,
 * then of the receipts' (`hex-decimal`), so that a hex id of digits only still finds its receipt.
 */
export const smppMessageIds = ['auto', 'hex', 'decimal', 'hex-decimal', 'decimal-hex'] as const;
export type SmppMessageIds = (typeof smppMessageIds)[number];

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  publicUrl: URL;
  databaseUrl: string;
  dataDir: string;
  sessionSecret: string;
  /** 256-bit key that encrypts personal identity numbers at rest. */
  dataKey: Buffer;
  mail: { smtpUrl?: string; from: string };
  sms: { smppUrl?: string; sender: string; throttle: number; messageIds: SmppMessageIds };
  /** CA certificates (PEM) trusted besides the system's for the SMTP relay and the SMPP gateway. */
  tlsCa?: string;
  xmpp?: { service: string; domain: string; mucDomain: string; user: string; password: string };
  jitsi?: { url: string; appId: string; appSecret: string };
  turn?: { urls: string[]; secret: string };
  oidc?: OidcConfig;
  /** Password login for staff; off once everyone logs in through the identity provider. */
  localLogin: boolean;
  templatesDir: string;
  logLevel: string;
  login: { maxFailures: number; lockoutMinutes: number };
  /** A staff session ends this many hours after its login, however active the person. */
  sessionHours: number;
  /** A staff session ends after this many minutes without the person's activity (besides its `sessionHours`). */
  sessionIdleMinutes: number;
  /** Minutes before the start at which the room opens (earlier arrivals wait in the waiting room). */
  roomOpensMinutes: number;
  /** Minutes after the end at which a room still open is ended for everyone. */
  roomGraceMinutes: number;
  /** The routine's "about five minutes": when an absent participant raises an alert. */
  noShowMinutes: number;
  /** Minutes before a meeting's start at which reminders go out. */
  reminderOffsetsMinutes: number[];
  /** Most people in one meeting, the booking clinician included. */
  maxParticipants: number;
  /** Evaluation requests: how long their link stays valid, and the smallest group whose free text a report shows. */
  evaluation: { days: number; minGroup: number };
  /** Days after which connection logs, evaluation answers and participants' contact data are deleted. */
  retention: { connlogDays: number; answersDays: number; contactsDays: number; loginAddressDays: number };
  /** Proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed; empty: none. */
  trustedProxies: string[];
  /** Bearer token that lets a monitoring system read /metrics; unset: admins only. */
  metricsToken?: string;
  /** Which secrets were generated into the data folder on this start (never their values). */
  generatedSecrets: string[];
}

/** The hospital's identity provider (SITHS for staff, BankID/SITHS for participants). */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** Claim names: brokers differ (Inera's IdP, the Swedish OIDC profile, commercial BankID brokers). */
  claims: { hsaId: string; name: string; email: string; personalNumber: string };
  /** What a staff account is found by. */
  staffMatch: 'hsa_id' | 'email';
  /** Unknown staff get an account in this unit and role, or are refused when unset. */
  autoProvision?: { unit: string; role: 'admin' | 'clinician' | 'support' };
  /** acr_values that make the provider use a SITHS card or BankID, where it offers both. */
  acr: { siths?: string; bankid?: string };
}

/** How to fix each variable, appended to its error line. */
const fixes: Record<string, string> = {
  SESSION_SECRET: 'generate one with openssl rand -hex 32',
  DATA_KEY: 'generate one with openssl rand -hex 32',
  DATABASE_URL: 'use sqlite:./data/samverka.db or postgres://user:password@host:5432/samverka',
  PUBLIC_URL: 'use the address people open, e.g. https://samverka.region.se',
  PORT: 'use a free TCP port such as 3000',
  SMTP_URL: 'use smtp://user:password@relay.hospital.se:587 (or smtps://…:465)',
  SMPP_URL: 'use smpp://system_id:password@smsc.hospital.se:2775',
  SMS_SENDER: 'use a name such as Samverka, or the number replies go to',
  SMPP_THROTTLE: 'use the messages per second your SMS gateway allows, e.g. 10',
  SMPP_MESSAGE_IDS:
    'use auto, or how the gateway writes message ids in submit_sm_resp and in receipts: hex, decimal, hex-decimal or decimal-hex',
  TEMPLATES_DIR: 'use the folder holding your copies of templates/ (in the bundle /templates)',
  TLS_CA_FILE:
    "use the path of a PEM file holding the CA certificate(s) that signed the relay's or gateway's certificate",
  MAIL_FROM: 'use an address such as Samverka <noreply@hospital.se>',
  XMPP_SERVICE: "use xmpp://prosody:5222 (Jitsi's Prosody)",
  JITSI_URL: 'use the Jitsi Meet address, e.g. https://meet.hospital.se',
  TURN_URLS: 'use a comma-separated list such as turn:turn.hospital.se:3478?transport=udp',
  OIDC_ISSUER: "use the identity provider's issuer URL, e.g. https://idp.hospital.se",
  OIDC_STAFF_MATCH: 'use hsa_id or email',
  OIDC_AUTO_PROVISION: 'use off, or unit:role such as Barnmedicin:clinician (the unit must exist)',
  LOCAL_LOGIN: 'use on or off; off needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (nobody could log in)',
  SESSION_HOURS: 'use the hours after the login at which a staff session ends, e.g. 12 (1 to 24)',
  SESSION_IDLE_MINUTES:
    'use the minutes without activity after which a staff member is logged out, e.g. 30 (at most the SESSION_HOURS a session lasts, in minutes)',
  LOG_LEVEL: 'use one of fatal, error, warn, info, debug, trace, silent',
  ROOM_OPENS_MINUTES: 'use the minutes before the start at which the room opens, e.g. 15',
  ROOM_GRACE_MINUTES: 'use the minutes after the end at which the room closes, e.g. 30',
  NOSHOW_MINUTES: 'use the minutes after the start at which an absent participant raises an alert, e.g. 5',
  REMINDER_OFFSETS: 'use minutes before the start, comma-separated, e.g. 1440,15 (or "none")',
  MAX_PARTICIPANTS: 'use the most people in one meeting, the host included, e.g. 10',
  EVALUATION_DAYS: 'use the days an evaluation link stays valid, e.g. 14',
  EVALUATION_MIN_GROUP: 'use the fewest respondents whose free text a report may show, e.g. 5',
  RETENTION_CONNLOG_DAYS: 'use the days connection logs are kept, e.g. 180',
  RETENTION_ANSWERS_DAYS: 'use the days evaluation answers are kept, e.g. 730',
  RETENTION_CONTACTS_DAYS: "use the days after a meeting that participants' contact data is kept, e.g. 90",
  RETENTION_LOGIN_ADDRESS_DAYS:
    'use the days an e-mail address typed at a failed login that names no account is kept, e.g. 30',
  TRUSTED_PROXIES: "use the proxy's addresses or networks, comma-separated, e.g. 127.0.0.1,10.0.0.0/24",
  METRICS_TOKEN: 'generate one with openssl rand -hex 32',
};

/**
 * The environment as the schema below returns it. The schema is typed by this interface strictly
 * (Joi.object<Environment, true>): a variable missing on either side, or a number schema for a
 * string, fails the typecheck. A variable with a default is always set and so is not optional
 * here; test/config.ts checks that the two agree on which those are.
 */
export interface Environment {
  NODE_ENV: Config['env'];
  HOST: string;
  PORT: number;
  PUBLIC_URL: string;
  DATABASE_URL: string;
  DATA_DIR: string;
  SESSION_SECRET?: string;
  DATA_KEY?: string;
  SMTP_URL?: string;
  MAIL_FROM: string;
  SMPP_URL?: string;
  SMS_SENDER: string;
  SMPP_THROTTLE: number;
  SMPP_MESSAGE_IDS: SmppMessageIds;
  TLS_CA_FILE?: string;
  XMPP_SERVICE?: string;
  XMPP_DOMAIN?: string;
  XMPP_MUC_DOMAIN?: string;
  XMPP_USER?: string;
  XMPP_PASSWORD?: string;
  JITSI_URL?: string;
  JWT_APP_ID?: string;
  JWT_APP_SECRET?: string;
  TURN_URLS?: string;
  TURN_SECRET?: string;
  OIDC_ISSUER?: string;
  OIDC_CLIENT_ID?: string;
  OIDC_CLIENT_SECRET?: string;
  OIDC_SCOPE: string;
  OIDC_HSA_ID_CLAIM: string;
  OIDC_NAME_CLAIM: string;
  OIDC_EMAIL_CLAIM: string;
  OIDC_PERSONAL_NUMBER_CLAIM: string;
  OIDC_STAFF_MATCH: OidcConfig['staffMatch'];
  /** 'off', or unit:role. */
  OIDC_AUTO_PROVISION: string;
  OIDC_ACR_SITHS?: string;
  OIDC_ACR_BANKID?: string;
  LOCAL_LOGIN: 'on' | 'off';
  TEMPLATES_DIR?: string;
  LOG_LEVEL: string;
  LOGIN_MAX_FAILURES: number;
  LOGIN_LOCKOUT_MINUTES: number;
  SESSION_HOURS: number;
  SESSION_IDLE_MINUTES: number;
  ROOM_OPENS_MINUTES: number;
  ROOM_GRACE_MINUTES: number;
  NOSHOW_MINUTES: number;
  /** 'none', or minutes separated by commas. */
  REMINDER_OFFSETS: string;
  MAX_PARTICIPANTS: number;
  EVALUATION_DAYS: number;
  EVALUATION_MIN_GROUP: number;
  RETENTION_CONNLOG_DAYS: number;
  RETENTION_ANSWERS_DAYS: number;
  RETENTION_CONTACTS_DAYS: number;
  RETENTION_LOGIN_ADDRESS_DAYS: number;
  /** Addresses or CIDR blocks separated by commas, each checked (proxyList). */
  TRUSTED_PROXIES?: string;
  METRICS_TOKEN?: string;
}

/** Variables that make up one part: all set, or none. */
const groups = {
  XMPP: ['XMPP_SERVICE', 'XMPP_DOMAIN', 'XMPP_MUC_DOMAIN', 'XMPP_USER', 'XMPP_PASSWORD'],
  Jitsi: ['JITSI_URL', 'JWT_APP_ID', 'JWT_APP_SECRET'],
  TURN: ['TURN_URLS', 'TURN_SECRET'],
  'identity provider': ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'],
} as const satisfies Record<string, readonly (keyof Environment)[]>;

const secret = (min: number) => Joi.string().min(min);
const dataKey = () => Joi.string().pattern(/^[0-9a-fA-F]{64}$/, '64 hexadecimal characters (256 bits)');
/** What secrets.json may hold: the same rules as the variables it stands in for. */
const storedSecretsSchema = Joi.object<Partial<StoredSecrets>>({ SESSION_SECRET: secret(32), DATA_KEY: dataKey() });
/**
 * A URL of these schemes, also as Node reads it (new URL: the start, pg, the mail and SMS clients,
 * fetch). Joi's RFC 3986 check alone lets through a port past 65535, which then crashed the start
 * with "Invalid URL", and `smpp:/host`, which names no host and so reached nothing.
 */
const url = (...scheme: string[]) => Joi.string().uri({ scheme }).custom(checkUrl);
const productionOnly = (schema: Joi.StringSchema) =>
  schema.when('NODE_ENV', { is: 'production', then: Joi.required() });

export const environmentSchema = Joi.object<Environment, true>({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  HOST: Joi.string().hostname().default('0.0.0.0'),
  PORT: Joi.number().integer().min(0).max(65535).default(3000),
  PUBLIC_URL: url('http', 'https')
    .custom(checkOrigin)
    .default((parent: Pick<Environment, 'PORT'>) => `http://localhost:${parent.PORT}`),
  DATABASE_URL: Joi.string()
    .pattern(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'sqlite: or postgres:// URL')
    .custom(checkDatabaseUrl)
    .default('sqlite:./data/samverka.db'),
  DATA_DIR: Joi.string().default('./data'),
  SESSION_SECRET: productionOnly(secret(32)),
  DATA_KEY: productionOnly(dataKey()),
  SMTP_URL: productionOnly(url('smtp', 'smtps')),
  // The sender of every invitation: a name alone, or a ">" left out, reached the relay as the sender.
  MAIL_FROM: Joi.string()
    .pattern(/^([^<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, 'an e-mail address, alone or as Name <address>')
    .default('Samverka <noreply@samverka.local>'),
  SMPP_URL: productionOnly(url('smpp', 'ssmpp')),
  // A number goes to the gateway as one (international, as sourceAddress in invites/sms.ts reads
  // it); anything else is an alphanumeric sender, which GSM limits to 11 characters.
  SMS_SENDER: Joi.string()
    .pattern(/^(\+?[0-9]{1,16}|.{1,11})$/, 'at most 11 letters or digits, or a number of at most 16 digits')
    .default('Samverka'),
  SMPP_THROTTLE: Joi.number().positive().max(10000).default(10),
  SMPP_MESSAGE_IDS: Joi.string<SmppMessageIds>()
    .valid(...smppMessageIds)
    .default('auto'),
  TLS_CA_FILE: Joi.string(),
  XMPP_SERVICE: url('xmpp', 'xmpps', 'ws', 'wss'),
  XMPP_DOMAIN: Joi.string().hostname(),
  XMPP_MUC_DOMAIN: Joi.string().hostname(),
  XMPP_USER: Joi.string(),
  XMPP_PASSWORD: Joi.string(),
  JITSI_URL: url('http', 'https'),
  JWT_APP_ID: Joi.string(),
  JWT_APP_SECRET: secret(32),
  TURN_URLS: Joi.string().pattern(/^(turns?:[^,\s]+)(,turns?:[^,\s]+)*$/, 'comma-separated turn: URLs'),
  TURN_SECRET: secret(16),
  OIDC_ISSUER: url('http', 'https'),
  OIDC_CLIENT_ID: Joi.string(),
  OIDC_CLIENT_SECRET: Joi.string(),
  OIDC_SCOPE: Joi.string()
    .max(500)
    .pattern(/^openid(\s|$)/, 'a space-separated list starting with openid')
    .default('openid profile email'),
  OIDC_HSA_ID_CLAIM: Joi.string().max(200).default('employeeHsaId'),
  OIDC_NAME_CLAIM: Joi.string().max(200).default('name'),
  OIDC_EMAIL_CLAIM: Joi.string().max(200).default('email'),
  OIDC_PERSONAL_NUMBER_CLAIM: Joi.string().max(200).default('https://id.oidc.se/claim/personalIdentityNumber'),
  OIDC_STAFF_MATCH: Joi.string().valid('hsa_id', 'email').default('hsa_id'),
  OIDC_AUTO_PROVISION: Joi.string()
    .pattern(/^(off|.+:(admin|clinician|support))$/, 'off or unit:role')
    .default('off'),
  OIDC_ACR_SITHS: Joi.string().max(200),
  OIDC_ACR_BANKID: Joi.string().max(200),
  LOCAL_LOGIN: Joi.string()
    .default('on')
    .when('OIDC_ISSUER', { is: Joi.exist(), then: Joi.valid('on', 'off'), otherwise: Joi.valid('on') }),
  TEMPLATES_DIR: Joi.string(),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  LOGIN_MAX_FAILURES: Joi.number().integer().min(1).max(100).default(5),
  LOGIN_LOCKOUT_MINUTES: Joi.number()
    .integer()
    .min(1)
    .max(24 * 60)
    .default(15),
  // A working day; a hospital with 24-hour shifts may want the whole of one.
  SESSION_HOURS: Joi.number().integer().min(1).max(24).default(12),
  // An idle limit past the session's end would never be reached.
  SESSION_IDLE_MINUTES: Joi.number()
    .integer()
    .min(1)
    .max(Joi.ref('SESSION_HOURS', { adjust: (hours: number) => hours * 60 }))
    .default(30),
  ROOM_OPENS_MINUTES: Joi.number().integer().min(0).max(240).default(15),
  ROOM_GRACE_MINUTES: Joi.number().integer().min(0).max(480).default(30),
  NOSHOW_MINUTES: Joi.number().integer().min(1).max(120).default(5),
  REMINDER_OFFSETS: Joi.string()
    .pattern(/^(none|\d{1,5}(,\d{1,5})*)$/, 'a comma-separated list of minutes')
    .default('1440,15'),
  MAX_PARTICIPANTS: Joi.number().integer().min(2).max(100).default(10),
  EVALUATION_DAYS: Joi.number().integer().min(1).max(365).default(14),
  EVALUATION_MIN_GROUP: Joi.number().integer().min(2).max(1000).default(5),
  RETENTION_CONNLOG_DAYS: Joi.number().integer().min(1).max(3650).default(180),
  RETENTION_ANSWERS_DAYS: Joi.number().integer().min(1).max(3650).default(730),
  RETENTION_CONTACTS_DAYS: Joi.number().integer().min(1).max(3650).default(90),
  RETENTION_LOGIN_ADDRESS_DAYS: Joi.number().integer().min(1).max(365).default(30),
  TRUSTED_PROXIES: Joi.string()
    .custom(checkProxies, 'addresses or CIDR blocks')
    .messages({ 'any.custom': '{#label} must be addresses or CIDR blocks: {#error.message}' }),
  METRICS_TOKEN: secret(32),
})
  .and(...groups.XMPP)
  .and(...groups.Jitsi)
  .and(...groups.TURN)
  .and(...groups['identity provider'])
  .unknown(true);

/** Every variable the appliance reads: compose.yaml and env.example must pass and document each. */
export const configVariables: readonly string[] = Object.keys(environmentDescription());

/** Each variable's description: its flags say its default, if it has one (test/config.ts reads them). */
export function environmentDescription(): Record<string, Joi.Description> {
  // Joi types a description's parts `any`: `keys` of an object schema is its variables by name.
  return (environmentSchema.describe().keys ?? {}) as Record<string, Joi.Description>;
}

const messages = {
  'any.required': '{#label} must be set',
  'string.min': '{#label} must be at least {#limit} characters',
  'string.max': '{#label} must be at most {#limit} characters',
  'string.uri': '{#label} must be a URL',
  'string.uriCustomScheme': '{#label} must be a URL starting with {#scheme}',
  'string.pattern.name': '{#label} must be {#name}',
  'string.hostname': '{#label} must be a host name',
  'number.base': '{#label} must be a number',
  'number.integer': '{#label} must be a whole number',
  'number.min': '{#label} must be at least {#limit}',
  'number.max': '{#label} must be at most {#limit}',
  'number.positive': '{#label} must be a positive number',
  'any.only': '{#label} must be one of {#valids}',
  'object.and': '{#presentWithLabels} set without {#missingWithLabels}: set all of them or none',
  'any.custom': '{#label} must be {#error.message}',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Environment configuration is invalid, please check the following:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * Reads a .env file in the working directory, docker-jitsi-meet style; variables already in the
 * environment win. Not when the environment says it came from a file of its own
 * (`SAMVERKA_ENV_FILE`: the Debian service and its `samverka` command read samverka.env): a .env
 * wherever an administrator happens to stand must not point the command at another database or relay.
 */
export function loadDotEnv(env: Record<string, string | undefined> = process.env): void {
  if (env.SAMVERKA_ENV_FILE) return;
  if (existsSync('.env')) process.loadEnvFile('.env');
}

/**
 * Validates the environment and returns the configuration; throws ConfigError with one line per
 * problem. Outside production, missing SESSION_SECRET and DATA_KEY are generated into DATA_DIR
 * once, so that `npm start` works on a fresh clone and keeps its sessions and data across restarts.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const values = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = environmentSchema.validate(values, {
    abortEarly: false,
    convert: true,
    errors: { wrap: { label: false } },
    messages,
  });
  if (result.error) {
    // One line per variable: a value that fails two of its checks (not a URL at all, nor one Node
    // reads) is named by the first.
    const named = new Set<string>();
    const problems = result.error.details.flatMap((d) => {
      const variable = String(d.path[0] ?? '');
      const fix = fixes[variable];
      if (d.type === 'object.and') return [d.message.replace(/[[\]]/g, '')];
      if (named.has(variable)) return [];
      named.add(variable);
      return [fix ? `${d.message}: ${fix}` : d.message];
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const v = result.value;

  const tlsCa = v.TLS_CA_FILE ? readCaFile(v.TLS_CA_FILE) : undefined;
  if (v.TEMPLATES_DIR) checkFolder('TEMPLATES_DIR', v.TEMPLATES_DIR);
  const dataDir = resolve(v.DATA_DIR);
  const generatedSecrets: string[] = [];
  const missing = (['SESSION_SECRET', 'DATA_KEY'] as const).filter((k) => !v[k]);
  const stored: Partial<StoredSecrets> = missing.length ? readOrCreateSecrets(dataDir, missing, generatedSecrets) : {};
  /** A part's settings, made from its group of variables when all of them are set. */
  const part = <K extends keyof Environment, T>(keys: readonly K[], make: (set: AllSet<K>) => T): T | undefined =>
    allSet(v, keys) ? make(v) : undefined;

  return {
    env: v.NODE_ENV,
    host: v.HOST,
    port: v.PORT,
    publicUrl: new URL(v.PUBLIC_URL),
    databaseUrl: v.DATABASE_URL,
    dataDir,
    sessionSecret: v.SESSION_SECRET ?? must(stored.SESSION_SECRET, 'the stored session secret'),
    dataKey: Buffer.from(v.DATA_KEY ?? must(stored.DATA_KEY, 'the stored data key'), 'hex'),
    mail: { smtpUrl: v.SMTP_URL, from: v.MAIL_FROM },
    sms: { smppUrl: v.SMPP_URL, sender: v.SMS_SENDER, throttle: v.SMPP_THROTTLE, messageIds: v.SMPP_MESSAGE_IDS },
    ...(tlsCa ? { tlsCa } : {}),
    xmpp: part(groups.XMPP, (x) => ({
      service: x.XMPP_SERVICE,
      domain: x.XMPP_DOMAIN,
      mucDomain: x.XMPP_MUC_DOMAIN,
      user: x.XMPP_USER,
      password: x.XMPP_PASSWORD,
    })),
    jitsi: part(groups.Jitsi, (j) => ({
      url: j.JITSI_URL.replace(/\/$/, ''),
      appId: j.JWT_APP_ID,
      appSecret: j.JWT_APP_SECRET,
    })),
    turn: part(groups.TURN, (u) => ({ urls: u.TURN_URLS.split(','), secret: u.TURN_SECRET })),
    oidc: part(groups['identity provider'], (o) => ({
      issuer: o.OIDC_ISSUER,
      clientId: o.OIDC_CLIENT_ID,
      clientSecret: o.OIDC_CLIENT_SECRET,
      scope: v.OIDC_SCOPE,
      claims: {
        hsaId: v.OIDC_HSA_ID_CLAIM,
        name: v.OIDC_NAME_CLAIM,
        email: v.OIDC_EMAIL_CLAIM,
        personalNumber: v.OIDC_PERSONAL_NUMBER_CLAIM,
      },
      staffMatch: v.OIDC_STAFF_MATCH,
      autoProvision: autoProvision(v.OIDC_AUTO_PROVISION),
      acr: { siths: v.OIDC_ACR_SITHS, bankid: v.OIDC_ACR_BANKID },
    })),
    localLogin: v.LOCAL_LOGIN === 'on',
    templatesDir: resolve(v.TEMPLATES_DIR ?? join(projectRoot, 'templates')),
    logLevel: v.LOG_LEVEL,
    login: { maxFailures: v.LOGIN_MAX_FAILURES, lockoutMinutes: v.LOGIN_LOCKOUT_MINUTES },
    sessionHours: v.SESSION_HOURS,
    sessionIdleMinutes: v.SESSION_IDLE_MINUTES,
    roomOpensMinutes: v.ROOM_OPENS_MINUTES,
    roomGraceMinutes: v.ROOM_GRACE_MINUTES,
    noShowMinutes: v.NOSHOW_MINUTES,
    reminderOffsetsMinutes: v.REMINDER_OFFSETS === 'none' ? [] : v.REMINDER_OFFSETS.split(',').map(Number),
    maxParticipants: v.MAX_PARTICIPANTS,
    evaluation: { days: v.EVALUATION_DAYS, minGroup: v.EVALUATION_MIN_GROUP },
    retention: {
      connlogDays: v.RETENTION_CONNLOG_DAYS,
      answersDays: v.RETENTION_ANSWERS_DAYS,
      contactsDays: v.RETENTION_CONTACTS_DAYS,
      loginAddressDays: v.RETENTION_LOGIN_ADDRESS_DAYS,
    },
    trustedProxies: v.TRUSTED_PROXIES ? proxyList(v.TRUSTED_PROXIES) : [],
    metricsToken: v.METRICS_TOKEN,
    generatedSecrets,
  };
}

/** The PEM text of TLS_CA_FILE; a file that cannot be read or holds no certificate stops the start. */
function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `TLS_CA_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ${fixes.TLS_CA_FILE}`,
    ]);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError([`TLS_CA_FILE holds no PEM certificate: ${fixes.TLS_CA_FILE}`]);
  return pem;
}

/** The check of url(): Node reads the URL, and it names a host. Its message never repeats the value (a password). */
function checkUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error('a URL Node can read: a port from 1 to 65535, special characters percent-encoded');
  }
  if (!parsed.hostname) throw new Error('a URL that names its host');
  // The SMS and mail clients decode the user and password: a "%" not starting an escape threw
  // "URI malformed" there, in the SMS client's connect handler, and took the appliance down.
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    throw new Error('a URL whose user and password write "%" as %25');
  }
  return value;
}

/**
 * The check of PUBLIC_URL: the host alone. Invitations put a path in their links, but the identity
 * provider's redirects and every page's own links (/login, /static/…) start at the root, so the
 * appliance only half worked behind a proxy path (or with …/login pasted from the browser).
 */
function checkOrigin(value: string): string {
  const parsed = new URL(value);
  if (parsed.pathname !== '/' || parsed.search || parsed.hash)
    throw new Error('the address of the host alone, without a path');
  return value;
}

/**
 * The check of a postgres:// DATABASE_URL. pg reads it as a URL: "#", "/" and "?" in the password
 * end the user part there, so pg went to a host named after the rest of the password, or failed
 * with "Invalid URL", and the start's message showed what it took for the host (the password).
 */
function checkDatabaseUrl(value: string): string {
  if (value.startsWith('sqlite:')) return value;
  const encode = 'percent-encode special characters in the password (# as %23, / as %2F, ? as %3F, % as %25)';
  try {
    checkUrl(value);
  } catch {
    throw new Error(`a URL Node can read: ${encode}`);
  }
  if (new URL(value).hash) throw new Error(`a URL without "#": ${encode}`);
  return value;
}

/**
 * A folder setting that must exist at start. The templates fall back to the built-in ones file by
 * file, so a TEMPLATES_DIR that is not there (the host's name of the bundle's folder, a typo) left
 * the hospital's edited texts silently unused.
 */
function checkFolder(variable: 'TEMPLATES_DIR', path: string): void {
  let why: string | undefined;
  try {
    if (!statSync(path).isDirectory()) why = 'a file';
  } catch (error) {
    why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
  if (why) throw new ConfigError([`${variable} is not a folder (${why}): ${must(fixes[variable], 'the fix')}`]);
}

/** TRUSTED_PROXIES as a list. */
const proxyList = (value: string): string[] =>
  value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);

/** The schema's check of TRUSTED_PROXIES: each entry must be an IP address or a CIDR block. */
function checkProxies(value: string): string {
  for (const entry of proxyList(value)) {
    if (!isAddressOrBlock(entry)) throw new Error(`"${entry}" is neither`);
  }
  return value;
}

type AllSet<K extends keyof Environment> = Environment & { [P in K]-?: NonNullable<Environment[P]> };

/** Whether every variable of a group is set (values are never empty: loadConfig drops those). */
const allSet = <K extends keyof Environment>(v: Environment, keys: readonly K[]): v is AllSet<K> =>
  keys.every((k) => v[k] !== undefined);

const staffRoles = ['admin', 'clinician', 'support'] as const;

/** OIDC_AUTO_PROVISION ('off' or unit:role, as its pattern admits) as the unit and role. */
function autoProvision(value: string): OidcConfig['autoProvision'] {
  if (value === 'off') return undefined;
  const colon = value.lastIndexOf(':');
  const role = must(
    staffRoles.find((r) => r === value.slice(colon + 1)),
    'a role the OIDC_AUTO_PROVISION pattern admits',
  );
  return { unit: value.slice(0, colon), role };
}

type StoredSecrets = { SESSION_SECRET: string; DATA_KEY: string };

function readOrCreateSecrets(
  dataDir: string,
  wanted: readonly (keyof StoredSecrets)[],
  generated: string[],
): Partial<StoredSecrets> {
  const file = join(dataDir, 'secrets.json');
  const secrets = existsSync(file) ? readStoredSecrets(file) : {};
  for (const key of wanted) {
    if (secrets[key]) continue;
    secrets[key] = randomBytes(32).toString('hex');
    generated.push(key);
  }
  if (generated.length > 0) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
}

/**
 * secrets.json as written, or a ConfigError: a file cut short or edited by hand stopped the start
 * with a bare SyntaxError, or with a short DATA_KEY started and failed at the first booking. It is
 * never written over: its DATA_KEY is the only one that opens what the database holds.
 */
function readStoredSecrets(file: string): Partial<StoredSecrets> {
  const problem = (why: string) =>
    new ConfigError([
      `DATA_DIR/secrets.json cannot be used (${why}): put back the copy kept with the database, or set SESSION_SECRET and DATA_KEY`,
    ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw problem((error as Error).message);
  }
  const checked: Joi.ValidationResult<Partial<StoredSecrets>> = storedSecretsSchema.validate(parsed, {
    errors: { wrap: { label: false } },
    messages,
  });
  if (checked.error) throw problem(checked.error.message);
  return checked.value;
}

/** A URL with its password replaced, for logs and the status page. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** One line per part for the start log: what is configured, embedded or off. Never a secret. */
export function describeParts(config: Config): string[] {
  const db = config.databaseUrl.startsWith('sqlite:')
    ? `SQLite file ${config.databaseUrl.slice('sqlite:'.length)}`
    : `PostgreSQL ${maskUrl(config.databaseUrl)}`;
  return [
    `database: ${db}`,
    config.mail.smtpUrl
      ? `mail: SMTP relay ${maskUrl(config.mail.smtpUrl)}`
      : 'mail: embedded development mail sink (SMTP_URL not set): nothing reaches a real mailbox',
    config.sms.smppUrl
      ? `sms: SMPP gateway ${maskUrl(config.sms.smppUrl)}, at most ${config.sms.throttle} msg/s`
      : 'sms: embedded development SMSC (SMPP_URL not set): nothing reaches a real phone',
    config.xmpp
      ? `xmpp: room control through ${config.xmpp.service} as ${config.xmpp.user}@${config.xmpp.domain}`
      : 'xmpp: off (XMPP_* not set): rooms are not controlled',
    config.jitsi
      ? `jitsi: ${config.jitsi.url} (app id ${config.jitsi.appId})`
      : 'jitsi: off (JITSI_URL not set): the meeting page says no media server is configured',
    config.turn
      ? `turn: ${config.turn.urls.join(', ')}`
      : 'turn: off (TURN_URLS not set): the technical test skips the relay check',
    config.oidc
      ? `identity provider: ${config.oidc.issuer}`
      : 'identity provider: off (OIDC_* not set): local staff accounts only; BankID/SITHS participants cannot be identified',
    `templates: ${config.templatesDir}`,
  ];
}
