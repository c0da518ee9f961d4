// The meeting page: starts Jitsi through its IFrame API (JitsiMeetExternalAPI from the Jitsi
// deployment's external_api.js) with the room, the token and the invited name; forwards the
// events support needs to the connection log; on leaving, moves on (the evaluation, for guests).
// On the staff page it also keeps the participant panel current.

import { forwardedJitsiEvents } from '../../appliance/src/connlog/model.ts';

declare const JitsiMeetExternalAPI: new (
  domain: string,
  options: Record<string, unknown>,
) => {
  addListener(event: string, listener: (data: unknown) => void): void;
  dispose(): void;
};

function post(crumb: string, meetingId: string | undefined, type: string, data: unknown): Promise<unknown> {
  // Only small, known, flat fields: the log takes no free-form payloads from the page.
  const details: Record<string, string | number | boolean> = {};
  if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (
        ['id', 'displayName', 'type', 'message', 'name', 'isFatal', 'isP2P', 'roomName', 'awaySeconds'].includes(key) &&
        ['string', 'boolean', 'number'].includes(typeof value)
      ) {
        details[key] = typeof value === 'string' ? value.slice(0, 200) : (value as number | boolean);
      } else if (key === 'error' && value && typeof value === 'object') {
        // errorOccurred's one field: { error: { name, message, type, isFatal } }; a fatal error is
        // the one that made Jitsi show its reconnect overlay.
        const e = value as Record<string, unknown>;
        details.errorName = typeof e.name === 'string' ? e.name.slice(0, 100) : '';
        details.errorMessage = typeof e.message === 'string' ? e.message.slice(0, 200) : '';
        if (typeof e.type === 'string') details.type = e.type.slice(0, 100);
        if (typeof e.isFatal === 'boolean') details.isFatal = e.isFatal;
      }
    }
  }
  return fetch('/connlog/events', {
    method: 'POST',
    // The video's own reports, not the person's doing: they do not keep an idle session open.
    headers: { 'content-type': 'application/json', 'x-csrf-token': crumb, 'x-live-refresh': 'true' },
    body: JSON.stringify({ type, meetingId, at: new Date().toISOString(), details }),
    keepalive: true,
  }).catch(() => undefined);
}

const host = document.querySelector<HTMLElement>('[data-jitsi]');
if (host && typeof JitsiMeetExternalAPI === 'function') {
  const { domain, room, jwt, name, leaveUrl, meetingId, crumb = '', lang = 'sv' } = host.dataset;
  const api = new JitsiMeetExternalAPI(domain!, {
    roomName: room,
    jwt,
    parentNode: host,
    lang,
    width: '100%',
    height: '100%',
    userInfo: { displayName: name },
    configOverwrite: {
      // The appliance's own tech test replaced Jitsi's prejoin page.
      prejoinConfig: { enabled: false },
      prejoinPageEnabled: false,
      // The name is the invited one: nobody renames themselves in the meeting.
      readOnlyName: true,
      disableDeepLinking: true,
      defaultLanguage: lang,
    },
  });
  for (const type of forwardedJitsiEvents)
    if (type !== 'videoConferenceJoined') api.addListener(type, (data) => void post(crumb, meetingId, type, data));
  // Jitsi has no event of its own for a reconnect: after a lost connection or a failed conference
  // its page in the frame leaves the meeting (videoConferenceLeft, also as that page unloads),
  // reloads and joins it again. A join after the first on this page is that reconnect, reported
  // with how long the person was out of the meeting.
  let joined = false;
  let leftAt: number | undefined;
  api.addListener('videoConferenceLeft', () => {
    leftAt = Date.now();
  });
  api.addListener('videoConferenceJoined', (data) => {
    const away = leftAt === undefined ? {} : { awaySeconds: Math.round((Date.now() - leftAt) / 1000) };
    void post(crumb, meetingId, joined ? 'reconnect' : 'videoConferenceJoined', {
      ...(data && typeof data === 'object' ? data : {}),
      ...away,
    });
    joined = true;
    leftAt = undefined;
  });
  api.addListener('readyToClose', (data) => {
    void post(crumb, meetingId, 'readyToClose', data).finally(() => location.assign(leaveUrl ?? '/'));
  });
}

// A guest's meeting page without the video: when the meeting ends, the page must not go on
// saying the room is open (with Jitsi, its readyToClose takes the guest on instead).
if (document.querySelector('[data-room-watch]')) {
  const events = new EventSource('/entry/waiting/events?watch=true');
  events.addEventListener('room', (event) => {
    if (!(JSON.parse(String(event.data)) as { ended?: boolean }).ended) return;
    events.close();
    location.assign('/entry/waiting');
  });
}

const panel = document.querySelector<HTMLElement>('[data-live-panel]');
if (panel) {
  const base = panel.dataset.livePanel!;
  const events = new EventSource(`${base}/events`);
  events.addEventListener('changed', async () => {
    // The view's token: a refresh is part of the view already recorded, not a new access to the meeting.
    const pageView = panel.dataset.pageView;
    const reply = await fetch(`${base}/panel`, {
      // A refresh the page makes by itself does not keep an idle session open.
      headers: { accept: 'text/html', 'x-live-refresh': 'true', ...(pageView ? { 'x-page-view': pageView } : {}) },
    });
    if (reply.ok) panel.innerHTML = await reply.text();
  });
}
