// The part of oidc-provider 9 the test identity provider uses (the package ships no types).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Interaction {
    uid: string;
    params: Record<string, unknown>;
    prompt: { name: string };
  }

  interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }

  class Grant {
    constructor(init: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export default class Provider {
    constructor(
      issuer: string,
      configuration: {
        clients: Record<string, unknown>[];
        jwks: { keys: unknown[] };
        cookies: { keys: string[] };
        claims: Record<string, string[]>;
        acrValues?: string[];
        ttl?: Record<string, number>;
        features?: Record<string, { enabled: boolean; [option: string]: unknown }> & {
          /** RP-initiated logout; logoutSource renders the question page around the provider's own form. */
          rpInitiatedLogout?: { enabled: boolean; logoutSource?(ctx: { body: unknown }, form: string): Promise<void> };
        };
        interactions?: { url(ctx: unknown, interaction: Interaction): string };
        findAccount(ctx: unknown, id: string): Promise<Account | undefined>;
      },
    );
    Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }
}
