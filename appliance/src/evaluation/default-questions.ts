// The predetermined questions the project ships (the routine: "all participants and staff are
// given the opportunity to evaluate the meeting with predetermined questions"). One set per role,
// the same questions for all; admins edit a unit's copy, which becomes a new version.
import { respondentRoles, type Question, type RespondentRole } from './model.ts';

export const defaultQuestions: Question[] = [
  {
    id: 'sound_picture',
    type: 'scale',
    text: { sv: 'Hur fungerade ljud och bild?', en: 'How did sound and picture work?' },
  },
  {
    id: 'could_say',
    type: 'scale',
    text: { sv: 'Kunde du säga det du ville under mötet?', en: 'Could you say what you wanted during the meeting?' },
  },
  {
    id: 'digital_suited',
    type: 'yes_no',
    text: { sv: 'Passade ett digitalt möte för det här syftet?', en: 'Did a digital meeting suit this purpose?' },
  },
  {
    id: 'comment',
    type: 'text',
    text: { sv: 'Vill du berätta något mer?', en: 'Anything else you would like to tell us?' },
  },
];

export const defaultQuestionSets = (): { id: string; role: RespondentRole; questions: Question[] }[] =>
  respondentRoles.map((role) => ({ id: `default-${role}-1`, role, questions: defaultQuestions }));
