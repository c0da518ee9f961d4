// What the evaluation pages accept. Answers come as q_<question id> form fields; their meaning is
// checked against the question set in service.ts.
import Joi from 'joi';
import { day as lookupDay, lookupYears } from '../http/dates.ts';
import { objectOf } from '../http/route.ts';
import { questionTypes, respondentRoles, type Question, type QuestionType, type RespondentRole } from './model.ts';

export const token = Joi.string()
  .max(64)
  .pattern(/^[A-Za-z0-9_-]+$/);

/** An answer form: the question set, and q_<question id> per question answered. */
export type Answers = { crumb?: string; setId: string; [answer: `q_${string}`]: string };
const answerFields = { crumb: Joi.string().max(200), setId: Joi.string().max(64).required() };
export const answerPayload = objectOf<Answers>(answerFields).pattern(
  /^q_[a-z0-9_]{1,40}$/,
  Joi.string().max(4000).allow(''),
);
export const linkAnswerPayload = objectOf<Answers & { token: string }>({
  ...answerFields,
  token: token.required(),
}).pattern(/^q_[a-z0-9_]{1,40}$/, Joi.string().max(4000).allow(''));
export const answerMaxBytes = 64 * 1024;

export const meetingParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });
export const tokenParams = objectOf<{ token: string }>({ token: token.required() });

const day = lookupDay(lookupYears);
export const reportQuery = objectOf<{ unitId?: string; from?: string; to?: string; role?: RespondentRole | '' }>({
  unitId: Joi.string().guid(),
  from: day,
  to: day,
  role: Joi.string<RespondentRole | ''>()
    .valid(...respondentRoles)
    .allow(''),
});

export const setParams = objectOf<{ unitId: string; role: RespondentRole }>({
  unitId: Joi.string().guid().required(),
  role: Joi.string<RespondentRole>()
    .valid(...respondentRoles)
    .required(),
});

/** The edit form: rows q<i>_id / _type / _sv / _en; rows with no text are dropped. */
export type SetForm = { crumb?: string; [field: `q${number}_${'id' | 'type' | 'sv' | 'en'}`]: string };
export const setPayload = objectOf<SetForm>({ crumb: Joi.string().max(200) }).pattern(
  /^q\d{1,2}_(id|type|sv|en)$/,
  Joi.string().max(500).allow(''),
);

export const questionSchema = objectOf<Question>({
  id: Joi.string()
    .pattern(/^[a-z0-9_]{1,40}$/)
    .required(),
  type: Joi.string<QuestionType>()
    .valid(...questionTypes)
    .required(),
  text: objectOf<Question['text']>({
    sv: Joi.string().trim().min(1).max(500).required(),
    en: Joi.string().trim().min(1).max(500).required(),
  }).required(),
});
