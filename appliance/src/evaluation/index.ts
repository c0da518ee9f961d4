// The evaluation plugin: predetermined questions after the meeting (routine step 8), on the page
// each person reaches on leaving and by a request through the outbox; anonymised results.
import type { Plugin } from '@hapi/hapi';
import { EvaluationRequests } from './requests.ts';
import { addSecretLink, notifyDispatcher } from '../invites/index.ts';
import { evaluationPath, routes } from './routes.ts';
import { randomToken } from '../crypto.ts';
import { participantSubject } from './model.ts';
import { renewRequestToken } from './store.ts';

declare module '@hapi/hapi' {
  interface PluginProperties {
    evaluation: { requests: EvaluationRequests };
  }
}

export const plugin: Plugin<void> = {
  name: 'evaluation',
  // entry registers the guest session the leaving participant still holds.
  dependencies: ['db', 'audit', 'staff', 'meetings', 'invites', 'entry'],
  register(server) {
    const { db, bus, config } = server.app;
    const log = (level: 'info' | 'warn' | 'error', message: string) => server.log([level, 'evaluation'], message);
    const requests = new EvaluationRequests(db, config.dataKey, config.evaluation.days, log);
    const notify = () => notifyDispatcher(server);

    // Staff ended the meeting for everyone (the rooms plugin declares and emits 'room.ended'):
    // the requests go now rather than an hour after the booked end.
    bus.on('room.ended', async ({ meetingId }) => {
      if ((await requests.requestFor(meetingId)) > 0) notify();
    });

    // Periodic and due once: in the leading process (db/leader.ts).
    server.app.leader.run('evaluation requests', () => {
      requests.start(notify);
      return () => requests.stop();
    });
    // An evaluation request's token opens the evaluation, not the way into a meeting.
    addSecretLink(server, 'evaluation_request', evaluationPath, async (trx, { meetingId, participantId, person }) => {
      const token = randomToken(18);
      return (await renewRequestToken(trx, meetingId, participantSubject(participantId, person), token))
        ? token
        : undefined;
    });
    server.expose('requests', requests);
    server.route(routes());
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).
/** Retention: deletes the answers (and who was asked) of meetings before `before`. */
export { deleteAnswersBefore as purgeAnswers } from './store.ts';
