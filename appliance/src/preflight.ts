// The preflight: configuration that is valid in form but still says what env.example says. A
// bundle started with https://samverka.example.se or a gateway password "change-me" would send
// invitations nobody can open; `samverka check --config` (run by the container's entry script and
// by first-run) refuses it with one line per variable.

/** Host names reserved for examples (RFC 2606) and the ones env.example uses. */
const exampleHost = /(^|\.)(example(\.(se|com|org|net))?|invalid|test)$/i;
/** Addresses reserved for documentation (RFC 5737); env.example's JVB_ADVERTISE_IPS is one. */
const documentationIp = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/;
/** Passwords and values left for a person to fill in. */
const placeholderText = /change-?me|replace-?me|<[A-Z_]+>|^x{3,}$/i;

/**
 * Variables the preflight reads: the appliance's own and the bundle's names, addresses and mail
 * settings that compose.yaml hands to the appliance for this check alone.
 */
export const preflightVariables = [
  'PUBLIC_URL',
  'JITSI_URL',
  'TURN_URLS',
  'TURN_HOST',
  'JVB_ADVERTISE_IPS',
  'SMTP_URL',
  'SMPP_URL',
  'MAIL_FROM',
  'RELAYHOST',
  'MAIL_SENDER_DOMAINS',
  'MAIL_HOSTNAME',
  'OIDC_ISSUER',
  'OIDC_CLIENT_SECRET',
  'DATABASE_URL',
  'XMPP_PASSWORD',
] as const;

/** Host names and addresses in a value: URLs, e-mail addresses, [host]:port, lists. */
function hostsIn(value: string): string[] {
  const hosts: string[] = [];
  for (const part of value.split(/[\s,]+/).filter(Boolean)) {
    const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)/i.exec(part);
    const mail = /@([^>\s]+)>?$/.exec(part);
    const turn = /^turns?:([^:?]+)/i.exec(part);
    const bracket = /^\[([^\]]+)\]/.exec(part);
    const host = url?.[1] ?? turn?.[1] ?? mail?.[1] ?? bracket?.[1] ?? part.replace(/:\d+$/, '');
    hosts.push(host.replace(/^\[|\]$/g, '').toLowerCase());
  }
  return hosts;
}

/** One line per variable that still holds an example or placeholder value; empty when all is real. */
export function findPlaceholders(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const name of preflightVariables) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (placeholderText.test(value)) {
      problems.push(`${name} still holds a placeholder from env.example: put in the real value`);
      continue;
    }
    const hosts = hostsIn(value);
    const example = hosts.find((h) => exampleHost.test(h));
    if (example) {
      problems.push(`${name} names ${example}, an example domain: put in the hospital's real name`);
      continue;
    }
    const documentation = hosts.find((h) => documentationIp.test(h));
    if (documentation)
      problems.push(
        `${name} is ${documentation}, an address reserved for documentation: put in this host's real public address`,
      );
  }
  return problems;
}
