// A stand-in for a Jitsi deployment's `external_api.js`, served from another origin (as JITSI_URL
// would be): it records the options the meeting page gives JitsiMeetExternalAPI, and a test plays
// the Jitsi page inside the frame with `__jitsiSends(message)`. The message is what that page sends
// over the IFrame API's transport (`{ name: 'video-conference-left', roomName }`), and it reaches the
// meeting page's listeners as external_api.js delivers it: under the event's API name
// (videoConferenceLeft), with the message's fields but its `name` as the one argument, emitted on an
// EventEmitter (addListener, on, removeListener). A message external_api.js does not map to an event
// reaches nobody. Jitsi's web client cannot run on these machines; the real one is exercised only in
// a full deployment.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** external_api.js's table of the transport's event names and the API's, for the events the tests send. */
const apiEvents = {
  'camera-error': 'cameraError',
  'error-occurred': 'errorOccurred',
  'mic-error': 'micError',
  'participant-joined': 'participantJoined',
  'participant-left': 'participantLeft',
  'peer-connection-failure': 'peerConnectionFailure',
  'suspend-detected': 'suspendDetected',
  'video-conference-joined': 'videoConferenceJoined',
  'video-conference-left': 'videoConferenceLeft',
  'video-ready-to-close': 'readyToClose',
};

const externalApi = `
const apiEvents = ${JSON.stringify(apiEvents)};
window.JitsiMeetExternalAPI = class {
  constructor(domain, options) {
    this.listeners = {};
    const { parentNode, ...rest } = options;
    window.__jitsi = { domain, options: rest, inPanel: parentNode && parentNode.hasAttribute('data-jitsi') };
    window.__jitsiSends = ({ name, ...data }) => {
      const event = apiEvents[name];
      if (event) this.emit(event, data);
      return Boolean(event);
    };
  }
  addListener(event, listener) { (this.listeners[event] = this.listeners[event] || []).push(listener); return this; }
  on(event, listener) { return this.addListener(event, listener); }
  removeListener(event, listener) { this.listeners[event] = (this.listeners[event] || []).filter((l) => l !== listener); return this; }
  emit(event, ...args) { const ls = (this.listeners[event] || []).slice(); ls.forEach((l) => l.apply(this, args)); return ls.length > 0; }
  dispose() { this.listeners = {}; }
};`;

/** What the Jitsi page in the frame sends over the transport: its event name and the event's fields. */
export type JitsiMessage = { name: keyof typeof apiEvents } & Record<string, unknown>;

export interface JitsiStandIn {
  url: string;
  close(): Promise<void>;
}

export async function startJitsiStandIn(): Promise<JitsiStandIn> {
  const server = createServer((req, res) => {
    if (req.url === '/external_api.js')
      res.writeHead(200, { 'content-type': 'application/javascript' }).end(externalApi);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
