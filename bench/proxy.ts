// The round-robin proxy of the scale benchmark in a process of its own (forked by the harness's
// startProxy), so that its work is neither the measuring process's nor the appliances'. It tells
// the parent its URL; then each message is the list of ports to route to, answered when in force.
import { roundRobin } from '../test/helpers/proxy.ts';

let ports: number[] = [];
const proxy = await roundRobin(() => ports);
process.on('message', (next: number[]) => {
  ports = next;
  process.send!('ok');
});
process.send!(proxy.url);
process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
