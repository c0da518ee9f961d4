// Readiness checks: the database and each configured adapter register one; /health/ready,
// `samverka check` and (later) the admin status page all read this one list.
export interface PartState {
  ok: boolean;
  /** Short sentence: what is reachable, or what is wrong. */
  detail: string;
}

export type Check = () => Promise<PartState>;

export class HealthRegistry {
  readonly #checks = new Map<string, Check>();

  add(part: string, check: Check): void {
    if (this.#checks.has(part)) throw new Error(`health check for ${part} registered twice`);
    this.#checks.set(part, check);
  }

  async run(timeoutMs = 3000): Promise<{ ok: boolean; parts: Record<string, PartState> }> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([part, check]) => [part, await withTimeout(check, timeoutMs)] as const),
    );
    return { ok: entries.every(([, s]) => s.ok), parts: Object.fromEntries(entries) };
  }
}

async function withTimeout(check: Check, ms: number): Promise<PartState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PartState>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([check().catch((error: Error) => ({ ok: false, detail: error.message })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
