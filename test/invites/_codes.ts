// Entry codes by SMS as a queue to drain: the outbox tests that count what reached the SMSC.
import type { Db } from '../../appliance/src/db/knex.ts';
import { enqueue } from '../../appliance/src/invites/outbox.ts';
import type { Arrival } from '../helpers/smsc.ts';

/** `count` entry codes, one per number, queued as entry queues them; code i is i in six digits. */
export async function queueCodes(db: Db, dataKey: Buffer, count: number): Promise<void> {
  await db.transaction(async (trx) => {
    for (let i = 0; i < count; i++) {
      await enqueue(trx, dataKey, {
        channel: 'sms',
        kind: 'sms_code',
        recipient: `+4670${String(1000000 + i)}`,
        language: 'sv',
        data: { minutes: 10 },
        secret: String(i).padStart(6, '0'),
      });
    }
  });
}

/** The code an SMS that arrived carries. */
export const codeOf = (a: Arrival): string | undefined => {
  const sm = a.pdu.short_message as { message?: string } | string;
  return /: (\d{6})\./.exec(typeof sm === 'string' ? sm : String(sm.message))?.[1];
};
