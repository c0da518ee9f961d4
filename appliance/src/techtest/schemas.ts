// What the tech-test page may send. Figures are bounded to what a real measurement can give, so
// that a broken or hostile page cannot fill the table with nonsense.
import Joi from 'joi';
import { nextPath } from '../staff/index.ts';
import { objectOf } from '../http/route.ts';
import {
  cameraAnswers,
  microphoneAnswers,
  soundAnswers,
  type CameraAnswer,
  type ChosenDevices,
  type MicrophoneAnswer,
  type NetworkFigures,
  type SoundAnswer,
  type TechTestAnswers,
} from './model.ts';

/** The result is a few hundred bytes; anything much larger is not from our page. */
export const resultMaxBytes = 8 * 1024;
/** Bounds of the download/upload estimate against the appliance. */
export const transferMaxBytes = 2 * 1024 * 1024;

const label = Joi.string().trim().max(200).allow('', null).empty('').default(null);
const figure = (max: number) => Joi.number().min(0).max(max).allow(null).default(null);

export const resultPayload = objectOf<TechTestAnswers>({
  camera: Joi.string<CameraAnswer>()
    .valid(...cameraAnswers)
    .required(),
  microphone: Joi.string<MicrophoneAnswer>()
    .valid(...microphoneAnswers)
    .required(),
  microphoneLevel: Joi.number().min(0).max(1).allow(null).default(null),
  sound: Joi.string<SoundAnswer>()
    .valid(...soundAnswers)
    .required(),
  devices: objectOf<ChosenDevices>({ camera: label, microphone: label, speaker: label }).default({
    camera: null,
    microphone: null,
    speaker: null,
  }),
  network: objectOf<NetworkFigures>({
    relayConfigured: Joi.boolean().required(),
    relayUdp: Joi.boolean().allow(null).default(null),
    relayTcp: Joi.boolean().allow(null).default(null),
    rttMs: figure(60_000),
    jitterMs: figure(60_000),
    loss: figure(1),
    throughputKbps: figure(10_000_000),
    downloadKbps: figure(100_000_000),
    uploadKbps: figure(100_000_000),
    durationMs: figure(600_000),
  }).required(),
}).label('TechTestResult');

export const downloadQuery = objectOf<{ bytes: number; n?: string }>({
  bytes: Joi.number().integer().min(1).max(transferMaxBytes).required(),
  // The page adds a random value so that no cache on the way can answer for the appliance.
  n: Joi.string().max(32),
});

export const nextQuery = objectOf<{ next?: string }>({ next: nextPath });
