// The process's entry point (npm start, systemd, the container). SIGTERM and SIGINT are taken before
// the rest of the appliance even loads: a signal nobody listens for kills a Node process on the spot
// (ended by the signal, not exit 0), and a stop asked for at any moment of the start - while
// migrating, while waiting for another process's start lock, or just after it said it is running -
// must still end in a graceful stop and exit 0 (start.ts). SIGHUP likewise (below).
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: a repeated signal while stopping is ignored (abort happens once) rather than
  // killing the process in the middle of its stop. systemd's stop timeout still ends in SIGKILL.
  process.on(signal, () => stop.abort(signal));
}

// SIGHUP, the usual "read your configuration again" (`systemctl reload`, `docker kill -s HUP`): the
// appliance reads hospital IT's message templates again (start.ts). Taken here too, for the same
// reason: unheard, it would end the process. One that comes before the templates are first read
// has nothing to do and is let go.
const hangup = new EventTarget();
process.on('SIGHUP', () => hangup.dispatchEvent(new Event('SIGHUP')));

const { start } = await import('./start.ts');
await start(stop.signal, hangup);
