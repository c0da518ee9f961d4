// What the evaluation pages accept. Answers come as q_<question id> form fields; their meaning is
// checked against the question set in service.ts.
import Joi from 'joi';
import { day as lookupDay, lookupYears } from '../http/dates.ts';
import { questionTypes, respondentRoles } from './model.ts';

export const token = Joi.string()
  .max(64)
  .pattern(/^[A-Za-z0-9_-]+$/);

const answerFields = { crumb: Joi.string().max(200), setId: Joi.string().max(64).required() };
export const answerPayload = Joi.object(answerFields).pattern(/^q_[a-z0-9_]{1,40}$/, Joi.string().max(4000).allow(''));
export const linkAnswerPayload = Joi.object({ ...answerFields, token: token.required() }).pattern(
  /^q_[a-z0-9_]{1,40}$/,
  Joi.string().max(4000).allow(''),
);
export const answerMaxBytes = 64 * 1024;

export const meetingParams = Joi.object({ id: Joi.string().guid().required() });
export const tokenParams = Joi.object({ token: token.required() });

const day = lookupDay(lookupYears);
export const reportQuery = Joi.object({
  unitId: Joi.string().guid(),
  from: day,
  to: day,
  role: Joi.string()
    .valid(...respondentRoles)
    .allow(''),
});

export const setParams = Joi.object({
  unitId: Joi.string().guid().required(),
  role: Joi.string()
    .valid(...respondentRoles)
    .required(),
});

/** The edit form: rows q<i>_id / _type / _sv / _en; rows with no text are dropped. */
export const setPayload = Joi.object({ crumb: Joi.string().max(200) }).pattern(
  /^q\d{1,2}_(id|type|sv|en)$/,
  Joi.string().max(500).allow(''),
);

export const questionSchema = Joi.object({
  id: Joi.string()
    .pattern(/^[a-z0-9_]{1,40}$/)
    .required(),
  type: Joi.string()
    .valid(...questionTypes)
    .required(),
  text: Joi.object({
    sv: Joi.string().trim().min(1).max(500).required(),
    en: Joi.string().trim().min(1).max(500).required(),
  }).required(),
});
