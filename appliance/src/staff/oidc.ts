// The hospital's identity provider (an OpenID Connect provider in front of SITHS and a BankID
// broker), reached through openid-client: authorization code flow with PKCE, state and nonce.
// openid-client checks the ID token's signature, issuer, audience, expiry and nonce; this file
// keeps state and nonce single-use and bound to the browser that started the flow.
import { timingSafeEqual } from 'node:crypto';
import type { Server } from '@hapi/hapi';
import type * as OpenId from 'openid-client';
import type { Config, OidcConfig } from '../config.ts';
import { sha256 } from '../crypto.ts';
import type { Db } from '../db/knex.ts';
import type { PartState } from '../common/readiness.ts';

import { insertFlow, takeFlow, type Flow, type FlowPurpose } from './oidc-flows.ts';

/** Every call to the provider gives up after this long: a page that says so, never a hang. */
export const providerTimeoutSeconds = 5;
/** The discovery document (endpoints, keys) is fetched again after this long. */
const metadataMinutes = 60;

export type FlowProblem = 'unknown_state' | 'other_browser' | 'expired' | 'denied' | 'rejected' | 'unreachable';

export class FlowError extends Error {
  constructor(
    readonly problem: FlowProblem,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'FlowError';
  }
}

/** What the provider vouches for, read through the configured claim names. */
export interface VerifiedIdentity {
  subject: string;
  hsaId: string | null;
  name: string | null;
  email: string | null;
  personalNumber: string | null;
  /** Kept only to end the provider's session at logout. */
  idToken: string | undefined;
}

export interface FlowStart {
  purpose: FlowPurpose;
  /** The browser's flow cookie: the flow belongs to the browser that holds it. */
  binding: string;
  /** Where the provider sends the browser back: exactly PUBLIC_URL + this path. */
  callbackPath: string;
  nextPath?: string | null;
  participantId?: string | null;
  person?: 'main' | 'proxy' | null;
  /** Selects SITHS or BankID at a provider that offers both. */
  acrValues?: string;
  /** Ask for a fresh authentication even if the browser has a session at the provider. */
  fresh?: boolean;
}

const sameHash = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const claimText = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' ? String(value) : null;

function unreachable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  const code = (error as { code?: string }).code;
  return code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM';
}

// openid-client is loaded only when an identity provider is configured (from the provider's
// constructor on): an appliance without one never holds it, which keeps the idle process small.
let loaded: Promise<typeof OpenId> | undefined;
const openid = (): Promise<typeof OpenId> => (loaded ??= import('openid-client'));

export class IdentityProvider {
  #metadata?: { at: number; configuration: Promise<OpenId.Configuration> };

  constructor(
    readonly settings: OidcConfig,
    /** The same URL object the config holds: redirect URIs follow PUBLIC_URL. */
    private readonly publicUrl: URL,
    /** Plain HTTP to the provider only outside production (a provider on loopback in tests). */
    private readonly allowHttp: boolean,
  ) {
    void openid();
  }

  callbackUrl(path: string): URL {
    return new URL(path, this.publicUrl);
  }

  #configuration(): Promise<OpenId.Configuration> {
    if (!this.#metadata || Date.now() - this.#metadata.at > metadataMinutes * 60_000) {
      const configuration = openid().then((client) =>
        client.discovery(
          new URL(this.settings.issuer),
          this.settings.clientId,
          { client_secret: this.settings.clientSecret },
          client.ClientSecretBasic(this.settings.clientSecret),
          { timeout: providerTimeoutSeconds, execute: this.allowHttp ? [client.allowInsecureRequests] : [] },
        ),
      );
      const entry = { at: Date.now(), configuration };
      this.#metadata = entry;
      // A failed discovery is not remembered: the next request tries again.
      configuration.catch(() => {
        if (this.#metadata === entry) this.#metadata = undefined;
      });
    }
    return this.#metadata.configuration;
  }

  async #reach(): Promise<OpenId.Configuration> {
    try {
      return await this.#configuration();
    } catch (error) {
      throw new FlowError(
        'unreachable',
        `the identity provider ${this.settings.issuer} cannot be reached: ${(error as Error).message}`,
        (error as { code?: string }).code,
      );
    }
  }

  /** The readiness check: the discovery document answers, and names this issuer. */
  async check(): Promise<PartState> {
    try {
      const client = await openid();
      const configuration = await client.discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        this.settings.clientSecret,
        undefined,
        {
          timeout: providerTimeoutSeconds,
          execute: this.allowHttp ? [client.allowInsecureRequests] : [],
        },
      );
      return { ok: true, detail: `discovery document of ${configuration.serverMetadata().issuer} answers` };
    } catch (error) {
      return {
        ok: false,
        detail: `discovery document of ${this.settings.issuer} does not answer: ${(error as Error).message}`,
      };
    }
  }

  /** Stores a new flow and returns the provider's authorization URL to send the browser to. */
  async begin(db: Db, start: FlowStart): Promise<URL> {
    const configuration = await this.#reach();
    const client = await openid();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    await insertFlow(db, {
      stateHash: sha256(state),
      binding: sha256(start.binding),
      purpose: start.purpose,
      nonce,
      codeVerifier,
      nextPath: start.nextPath ?? null,
      participantId: start.participantId ?? null,
      person: start.person ?? null,
    });
    const parameters: Record<string, string> = {
      redirect_uri: this.callbackUrl(start.callbackPath).href,
      scope: this.settings.scope,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    };
    if (start.acrValues) parameters.acr_values = start.acrValues;
    if (start.fresh) parameters.prompt = 'login';
    return client.buildAuthorizationUrl(configuration, parameters);
  }

  /**
   * Completes a flow from the provider's redirect: the state must name a stored flow of this purpose,
   * started by this browser, not expired; then the code is exchanged (PKCE) and the ID token checked.
   */
  async finish(
    db: Db,
    callback: { path: string; query: Record<string, unknown> },
    binding: string | undefined,
    purpose: FlowPurpose,
  ): Promise<{ flow: Flow; identity: VerifiedIdentity }> {
    const state = typeof callback.query.state === 'string' ? callback.query.state : '';
    // Taken (deleted) before anything else: a replayed callback finds nothing.
    const flow = state ? await takeFlow(db, sha256(state)) : undefined;
    if (!flow || flow.purpose !== purpose)
      throw new FlowError('unknown_state', 'no login in progress has this state (used already, or never issued)');
    if (!binding || !sameHash(flow.binding, sha256(binding)))
      throw new FlowError('other_browser', 'the login was started in another browser');
    if (flow.expiresAt <= new Date()) throw new FlowError('expired', 'the login took too long');

    const configuration = await this.#reach();
    const client = await openid();
    // The URL the provider answered to, as the provider knows it (PUBLIC_URL, not the listener).
    const current = this.callbackUrl(callback.path);
    for (const [key, value] of Object.entries(callback.query))
      if (typeof value === 'string') current.searchParams.set(key, value);
    try {
      const tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      let claims: Record<string, unknown> = { ...idClaims };
      const wanted = [
        this.settings.claims.hsaId,
        this.settings.claims.personalNumber,
        this.settings.claims.email,
        this.settings.claims.name,
      ];
      // Many providers put only `sub` in the ID token and the rest behind the userinfo endpoint.
      if (
        wanted.some((name) => !(name in claims)) &&
        configuration.serverMetadata().userinfo_endpoint &&
        tokens.access_token
      ) {
        const info = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      }
      return {
        flow,
        identity: {
          subject: idClaims.sub,
          hsaId: claimText(claims[this.settings.claims.hsaId]),
          name: claimText(claims[this.settings.claims.name]),
          email: claimText(claims[this.settings.claims.email]),
          personalNumber: claimText(claims[this.settings.claims.personalNumber]),
          idToken: tokens.id_token,
        },
      };
    } catch (error) {
      const code = (error as { code?: string; error?: string }).code ?? (error as { error?: string }).error;
      if (error instanceof client.AuthorizationResponseError)
        throw new FlowError('denied', `the identity provider answered ${error.error}`, error.error);
      if (unreachable(error))
        throw new FlowError('unreachable', `the identity provider did not answer: ${(error as Error).message}`, code);
      throw new FlowError('rejected', `the identity provider's answer was refused: ${(error as Error).message}`, code);
    }
  }

  /** Where to send the browser to end the provider's session too, when the provider has such an endpoint. */
  async endSessionUrl(postLogoutPath: string, idToken?: string): Promise<URL | undefined> {
    try {
      const configuration = await this.#configuration();
      if (!configuration.serverMetadata().end_session_endpoint) return undefined;
      const client = await openid();
      const parameters: Record<string, string> = { post_logout_redirect_uri: this.callbackUrl(postLogoutPath).href };
      if (idToken) parameters.id_token_hint = idToken;
      return client.buildEndSessionUrl(configuration, parameters);
    } catch {
      return undefined; // the provider is away: the local session has ended all the same
    }
  }
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    staff: { identityProvider?: IdentityProvider };
  }
}

export function identityProviderFor(config: Config): IdentityProvider | undefined {
  if (!config.oidc) return undefined;
  const issuer = new URL(config.oidc.issuer);
  return new IdentityProvider(
    config.oidc,
    config.publicUrl,
    issuer.protocol === 'http:' && config.env !== 'production',
  );
}

/** The provider configured for this server, if any (exposed by the staff plugin). */
export const identityProviderOf = (server: Server): IdentityProvider | undefined =>
  server.plugins.staff?.identityProvider;
