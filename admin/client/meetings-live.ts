// Live calendar and meeting page: listens to the page's event stream (SSE) and, when a meeting
// or a participant's status changes, fetches the page again and swaps the live region, so that
// what staff see follows without a reload (and without losing what they are typing elsewhere).
const root = document.querySelector<HTMLElement>('[data-live-url]');

/**
 * What the focused control in the region is, to find it again in the new one: a form's button by
 * its form's action and its name, a link by its address.
 */
function focusKey(el: Element | null, region: Element): ((candidate: Element) => boolean) | undefined {
  if (!el || !region.contains(el)) return undefined;
  const action = el.closest('form')?.getAttribute('action');
  const href = el.getAttribute('href');
  const label = el.textContent;
  return (c) =>
    c.tagName === el.tagName &&
    c.textContent === label &&
    c.closest('form')?.getAttribute('action') === action &&
    c.getAttribute('href') === href;
}

async function refresh(regionId: string, pageView: string | undefined, page: string): Promise<void> {
  // The view's token: a refresh is part of the view already recorded, not a new access to the meeting.
  // A refresh the page makes by itself does not keep an idle session open (the header's name: staff/auth.ts).
  const headers: Record<string, string> = {
    accept: 'text/html',
    'x-live-refresh': 'true',
    ...(pageView ? { 'x-page-view': pageView } : {}),
  };
  const response = await fetch(page, { headers, credentials: 'same-origin' });
  if (!response.ok) return;
  const next = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById(regionId);
  const current = document.getElementById(regionId);
  if (!next || !current) return;
  // Someone on the keyboard (or a screen reader) keeps their place: the control they were on is
  // focused again in the new region, rather than focus falling back to the top of the page.
  const same = focusKey(document.activeElement, current);
  current.replaceWith(next);
  if (same) [...next.querySelectorAll<HTMLElement>('a, button, input, select, textarea')].find(same)?.focus();
  // The new region may hold a new moment to refresh at (onTheClock).
  dispatchEvent(new Event('live-refreshed'));
}

/**
 * A page left open changes by the clock too (a meeting's start, its end and grace: the server's
 * data-changes-at on the region): it fetches itself again then, a second after, and reads the next
 * moment from the region it got. Timers past ~24 days overflow: the page is reloaded long before.
 */
function onTheClock(regionId: string, refreshNow: () => Promise<void>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = NaN;
  const schedule = () => {
    clearTimeout(timer);
    const at = Date.parse(document.getElementById(regionId)?.dataset.changesAt ?? '');
    // Once per moment: a refresh that did not come (the session ended) is not tried again and again.
    if (Number.isNaN(at) || at === done) return;
    const wait = Math.max(0, at - Date.now()) + 1000;
    if (wait < 2 ** 31 - 1)
      timer = setTimeout(() => {
        done = at;
        void refreshNow().then(schedule, schedule);
      }, wait);
  };
  schedule();
  addEventListener('live-refreshed', schedule);
}

if (root && 'EventSource' in window) {
  const regionId = root.dataset.liveRegion!;
  let pending: ReturnType<typeof setTimeout> | undefined;
  onTheClock(regionId, () => refresh(regionId, root.dataset.pageView, root.dataset.livePage ?? location.href));
  const source = new EventSource(root.dataset.liveUrl!);
  source.addEventListener('open', () => {
    for (const note of document.querySelectorAll<HTMLElement>('.live-note')) note.hidden = false;
  });
  source.addEventListener('meeting', () => {
    // Several changes in a burst (a booking tells everyone at once) make one refresh.
    clearTimeout(pending);
    pending = setTimeout(() => {
      // The page's own address: after a refused change the address bar holds the form's (a POST).
      refresh(regionId, root.dataset.pageView, root.dataset.livePage ?? location.href).catch(() => undefined);
    }, 150);
  });
  addEventListener('pagehide', () => source.close());
}
