// A stand-in for a Jitsi deployment's `external_api.js`, served from another origin (as JITSI_URL
// would be): it records the options the meeting page gives JitsiMeetExternalAPI and lets a test
// fire the IFrame API's events. Jitsi's web client cannot run on these machines; the real one is
// exercised only in a full deployment.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const externalApi = `
window.JitsiMeetExternalAPI = class {
  constructor(domain, options) {
    this.listeners = {};
    const { parentNode, ...rest } = options;
    window.__jitsi = { domain, options: rest, inPanel: parentNode && parentNode.hasAttribute('data-jitsi') };
    window.__fire = (event, data) => (this.listeners[event] || []).forEach((listener) => listener(data));
  }
  addListener(event, listener) { (this.listeners[event] = this.listeners[event] || []).push(listener); }
  dispose() {}
};`;

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
