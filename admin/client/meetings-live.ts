// Live calendar and meeting page: listens to the page's event stream (SSE) and, when a meeting
// or a participant's status changes, fetches the page again and swaps the live region, so that
// what staff see follows without a reload (and without losing what they are typing elsewhere).
const root = document.querySelector<HTMLElement>('[data-live-url]');

async function refresh(regionId: string, pageView: string | undefined): Promise<void> {
  // The view's token: a refresh is part of the view already recorded, not a new access to the meeting.
  const headers: Record<string, string> = { accept: 'text/html', ...(pageView ? { 'x-page-view': pageView } : {}) };
  const response = await fetch(location.href, { headers, credentials: 'same-origin' });
  if (!response.ok) return;
  const next = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById(regionId);
  const current = document.getElementById(regionId);
  if (next && current) current.replaceWith(next);
}

if (root && 'EventSource' in window) {
  const regionId = root.dataset.liveRegion!;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const source = new EventSource(root.dataset.liveUrl!);
  source.addEventListener('open', () => {
    for (const note of document.querySelectorAll<HTMLElement>('.live-note')) note.hidden = false;
  });
  source.addEventListener('meeting', () => {
    // Several changes in a burst (a booking tells everyone at once) make one refresh.
    clearTimeout(pending);
    pending = setTimeout(() => {
      refresh(regionId, root.dataset.pageView).catch(() => undefined);
    }, 150);
  });
  addEventListener('pagehide', () => source.close());
}
