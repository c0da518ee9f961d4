// Support's search as a browser sends it: the form POSTs (with its crumb) and the answer sends the
// browser on to the result's own address, which carries no number or name.
import type { Client, Reply } from '../helpers/server.ts';

export interface Searched {
  /** The POST's answer: a redirect to the result, or the form again with its message. */
  posted: Reply;
  /** Where the browser went (the result's address), when it went on. */
  location: string | null;
  /** The result page, or the form again. */
  page: Reply;
}

export async function searchLog(client: Client, fields: Record<string, string>): Promise<Searched> {
  if (!client.crumb) await client.get('/connlog');
  const posted = await client.request('POST', '/connlog', { form: { crumb: client.crumb ?? '', ...fields } });
  const location = posted.status === 303 ? posted.headers.get('location') : null;
  return { posted, location, page: location ? await client.get(location) : posted };
}
