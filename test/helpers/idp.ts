// A real OpenID Connect provider for the tests: the `oidc-provider` package on loopback, standing in
// for the hospital's IdP (SITHS and a BankID broker). Its accounts carry an HSA-ID and a personal
// identity number under the claim names Samverka expects by default; its login page is a plain form
// ("Användar-id") that a browser or the tests' HTTP client can post.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { present } from './present.ts';

export interface IdpAccount {
  name: string;
  email?: string;
  hsaId?: string;
  personalNumber?: string;
}

export const personalNumberClaim = 'https://id.oidc.se/claim/personalIdentityNumber';
export const personalNumberScope = 'https://id.oidc.se/scope/naturalPersonNumber';

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The environment that points Samverka at this provider. */
  env: Record<string, string>;
  /** Registers Samverka (its redirect URIs) once its address is known. */
  trust(appUrl: string): void;
  addAccount(id: string, account: IdpAccount): void;
  close(): Promise<void>;
}

export async function startIdp(): Promise<TestIdp> {
  const accounts = new Map<string, IdpAccount>();
  const clientId = 'samverka';
  const clientSecret = randomBytes(24).toString('hex');
  let provider: Provider | undefined;

  const http: Server = createServer((req, res) => {
    if (!provider) {
      res.statusCode = 503;
      res.end('not ready');
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      interaction(provider, accounts, req, res).catch((error: Error) => {
        res.statusCode = 500;
        res.end(error.message);
      });
      return;
    }
    provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };

  return {
    issuer,
    clientId,
    clientSecret,
    env: {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_SCOPE: `openid profile email hsa ${personalNumberScope}`,
      OIDC_ACR_SITHS: 'urn:test:siths',
      OIDC_ACR_BANKID: 'urn:test:bankid',
    },
    trust(appUrl) {
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [`${appUrl}/auth/callback`, `${appUrl}/entry/identify/callback`],
            post_logout_redirect_uris: [`${appUrl}/login?bye=true`],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        jwks: { keys: [jwk] },
        ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
        cookies: { keys: [randomBytes(16).toString('hex')] },
        claims: {
          openid: ['sub'],
          profile: ['name'],
          email: ['email'],
          hsa: ['employeeHsaId'],
          [personalNumberScope]: [personalNumberClaim],
        },
        acrValues: ['urn:test:siths', 'urn:test:bankid'],
        features: {
          devInteractions: { enabled: false },
          // Its own logout question, in Swedish and without the default page's web font (no network here).
          rpInitiatedLogout: {
            enabled: true,
            async logoutSource(ctx, form) {
              ctx.body = page(
                `<h1>Logga ut från Test-IdP?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, logga ut från Test-IdP</button>`,
              );
            },
          },
        },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        async findAccount(_ctx, id) {
          const account = accounts.get(id);
          if (!account) return undefined;
          return {
            accountId: id,
            async claims() {
              return {
                sub: id,
                name: account.name,
                email: account.email,
                employeeHsaId: account.hsaId,
                [personalNumberClaim]: account.personalNumber,
              };
            },
          };
        },
      });
    },
    addAccount(id, account) {
      accounts.set(id, account);
    },
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const page = (body: string) =>
  `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Test-IdP</title></head><body>${body}</body></html>`;

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The provider's own login step: a form asking who you are; login and consent are given together. */
async function interaction(
  provider: Provider,
  accounts: Map<string, IdpAccount>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      page(`<h1>Test-IdP</h1><form method="post" action="/interaction/${details.uid}">
      <label for="login">Användar-id</label><input id="login" name="login">
      <button type="submit">Identifiera</button></form>
      <form method="post" action="/interaction/${details.uid}"><input type="hidden" name="abort" value="1"><button type="submit">Avbryt</button></form>`),
    );
    return;
  }
  const form = await formBody(req);
  if (form.get('abort')) {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'cancelled' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const accountId = form.get('login') ?? '';
  if (!accounts.has(accountId)) {
    res.statusCode = 400;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(page('<p role="alert">Okänt användar-id</p>'));
    return;
  }
  const clientId = String(details.params.client_id);
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  const acr = typeof details.params.acr_values === 'string' ? details.params.acr_values.split(' ')[0] : undefined;
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId, acr }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

/** A browser's visit to the provider without a browser: follows its redirects, posts its login form. */
export async function signInAt(authorizationUrl: string, accountId: string | { abort: true }): Promise<string> {
  const jar = new Map<string, string>();
  const go = async (url: string, form?: Record<string, string>): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = present(cookie.split(';')[0], 'the name=value of a Set-Cookie');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    await res.arrayBuffer();
    return res;
  };
  let res = await go(authorizationUrl);
  let location = new URL(res.headers.get('location') ?? '', authorizationUrl).href;
  if (!location.includes('/interaction/'))
    throw new Error(`the provider did not ask who you are (${res.status} → ${location})`);
  await go(location);
  res = await go(location, typeof accountId === 'string' ? { login: accountId } : { abort: '1' });
  if (res.status !== 303) throw new Error(`login at the provider failed: ${res.status}`);
  location = new URL(res.headers.get('location')!, authorizationUrl).href;
  // The provider resumes the authorization and answers with the redirect back to the client.
  for (let hops = 0; hops < 5 && location.startsWith(new URL(authorizationUrl).origin); hops += 1) {
    res = await go(location);
    location = new URL(res.headers.get('location') ?? '', location).href;
  }
  return location;
}
