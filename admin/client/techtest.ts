// The technical test page, in the clinic routine's order: camera ("do you see yourself?"),
// microphone (passes by itself when it hears speech), sound ("click to play — do you hear it?"),
// internet connection (automatic). A "no" shows help with "try again" or "continue anyway".
// Everything is announced in the live region; the page works by keyboard alone.
import type {
  CameraAnswer,
  ChosenDevices,
  MicrophoneAnswer,
  NetworkFigures,
  SoundAnswer,
  TechTestAnswers,
  Verdict,
} from '../../appliance/src/techtest/model.ts';
import { connectionVerdict } from '../../appliance/src/techtest/verdict.ts';
import {
  canUseMedia,
  fillDevices,
  LevelMeter,
  mediaProblem,
  meterValue,
  openStream,
  startAudio,
  stopStream,
  type MediaProblem,
} from './techtest/media.ts';
import { checkNetwork, noFigures, type IceReply } from './techtest/network.ts';
import { canChooseSpeaker, playChime } from './techtest/sound.ts';

type Step = 'camera' | 'microphone' | 'sound' | 'network';
type StepState = 'waiting' | 'running' | 'passed' | 'problem' | 'poor';
const steps: Step[] = ['camera', 'microphone', 'sound', 'network'];

/** Speech-level: RMS above this for a moment (quiet rooms stay well below). */
const speechLevel = 0.02;
const speechMs = 250;
/** After this long without speech, the page offers help. */
const silenceHelpMs = 12_000;

const root = document.getElementById('techtest')!;
const base = root.dataset.base!;
const crumb = root.dataset.crumb ?? '';
const lang = root.dataset.lang ?? 'sv';
// Answered straight from the form before it (the name or code POST): the address becomes the
// page's own, so a reload asks for the page and never sends the form again.
const here = root.dataset.here;
if (here && `${location.pathname}${location.search}` !== here) history.replaceState(null, '', here);
const strings = JSON.parse(document.getElementById('techtest-strings')!.textContent ?? '{}') as Record<string, string>;
const ice = JSON.parse(document.getElementById('techtest-ice')?.textContent ?? 'null') as IceReply | null;

const tr = (key: string, vars: Record<string, string | number> = {}): string =>
  (strings[`techtest.${key}`] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
const $ = <T extends HTMLElement>(selector: string, scope: ParentNode = document): T =>
  scope.querySelector<T>(selector)!;
const section = (step: Step | 'intro' | 'done') => $<HTMLElement>(`#step-${step}`);

const announcer = $<HTMLElement>('#announce');
function announce(text: string): void {
  // Emptied first so that the same sentence twice is read twice.
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

function setState(step: Step, state: StepState): void {
  const item = $<HTMLElement>(`.progress [data-step="${step}"]`);
  item.className = state === 'waiting' ? '' : `is-${state}`;
  // The connection's three verdicts read works / may be choppy / will not work.
  const key = state === 'problem' && step === 'network' ? 'failed' : state;
  $<HTMLElement>('.state', item).textContent = tr(`state.${key}`);
}

function show(step: Step, keepOthers = false): void {
  if (!keepOthers) for (const s of ['intro', ...steps] as const) section(s).hidden = true;
  section(step).hidden = false;
  document.querySelectorAll('.progress li').forEach((li) => li.removeAttribute('aria-current'));
  $<HTMLElement>(`.progress [data-step="${step}"]`).setAttribute('aria-current', 'step');
  setState(step, 'running');
  const n = steps.indexOf(step) + 1;
  announce(tr('announce.step', { n, name: tr(`step.${step}`) }));
  $<HTMLElement>('h2', section(step)).focus();
}

/** A step's "Ja/Nej" block, its help block and their buttons. */
function parts(step: Step) {
  const el = section(step);
  return {
    ask: el.querySelector<HTMLElement>('.ask'),
    help: $<HTMLElement>('.help', el),
    answer: (value: 'yes' | 'no') => $<HTMLButtonElement>(`[data-answer="${value}"]`, el),
    action: (value: 'retry' | 'skip') => $<HTMLButtonElement>(`[data-action="${value}"]`, el),
  };
}

function showHelp(step: Step): void {
  const p = parts(step);
  if (p.ask) p.ask.hidden = true;
  p.help.hidden = false;
  setState(step, 'problem');
  announce($<HTMLElement>('p', p.help).textContent ?? '');
  p.action('retry').focus();
}

function hideHelp(step: Step): void {
  const p = parts(step);
  p.help.hidden = true;
  setState(step, 'running');
}

const answers: {
  camera: CameraAnswer;
  microphone: MicrophoneAnswer;
  microphoneLevel: number | null;
  sound: SoundAnswer;
  devices: ChosenDevices;
} = {
  camera: 'unavailable',
  microphone: 'unavailable',
  microphoneLevel: null,
  sound: 'no',
  devices: { camera: null, microphone: null, speaker: null },
};

let audioContext: AudioContext;
let network: Promise<NetworkFigures>;

// ---- Camera ----------------------------------------------------------------------------------
const preview = $<HTMLVideoElement>('#preview');
const cameraSelect = $<HTMLSelectElement>('#camera-device');
let video: MediaStream | null = null;

function mediaError(step: 'camera' | 'microphone', problem: MediaProblem): void {
  const el = $<HTMLElement>(`#${step}-error`);
  el.textContent = tr(`${step}.${problem === 'denied' ? 'denied' : 'notfound'}`);
  el.hidden = false;
}

async function startCamera(deviceId?: string, initial?: MediaStream): Promise<void> {
  stopStream(video);
  video = null;
  $<HTMLElement>('#camera-error').hidden = true;
  try {
    video = initial ?? (await openStream('video', deviceId));
  } catch (error) {
    preview.srcObject = null;
    mediaError('camera', mediaProblem(error));
    showHelp('camera');
    return;
  }
  preview.srcObject = video;
  const track = video.getVideoTracks()[0];
  const p = parts('camera');
  p.ask!.hidden = false;
  // The question does not wait for the list of cameras: a choice appears beside it when there is one.
  void fillDevices(cameraSelect, 'videoinput', track?.getSettings().deviceId).catch(() => undefined);
}

function finishCamera(answer: CameraAnswer): void {
  answers.camera = answer;
  answers.devices.camera = video?.getVideoTracks()[0]?.label || null;
  // The picture is not needed any more: the camera light goes out.
  stopStream(video);
  preview.srcObject = null;
  setState('camera', answer === 'yes' ? 'passed' : 'problem');
  startMicrophoneStep();
}

{
  const p = parts('camera');
  p.answer('yes').addEventListener('click', () => finishCamera('yes'));
  p.answer('no').addEventListener('click', () => showHelp('camera'));
  p.action('retry').addEventListener('click', () => {
    hideHelp('camera');
    void startCamera(cameraSelect.value || undefined).then(() => p.answer('yes').focus());
  });
  p.action('skip').addEventListener('click', () => finishCamera(video ? 'no' : 'unavailable'));
  cameraSelect.addEventListener('change', () => void startCamera(cameraSelect.value));
}

// ---- Microphone ------------------------------------------------------------------------------
const meter = $<HTMLMeterElement>('#level');
const microphoneSelect = $<HTMLSelectElement>('#microphone-device');
let audio: MediaStream | null = null;
let levels: LevelMeter | null = null;
let silenceTimer: ReturnType<typeof setTimeout> | undefined;
let heardMs = 0;
let listeningSince = 0;

function stopListening(): void {
  clearTimeout(silenceTimer);
  levels?.close();
  levels = null;
}

async function listen(deviceId?: string): Promise<void> {
  stopListening();
  // The way out starts at once: whatever below never finishes (a device that does not answer, a
  // sound system that never starts), the person gets "Try again" and "Continue anyway".
  silenceTimer = setTimeout(() => showHelp('microphone'), silenceHelpMs);
  $<HTMLElement>('#microphone-error').hidden = true;
  $<HTMLElement>('#microphone-silent').textContent = tr('microphone.silent');
  if (deviceId !== undefined || !audio) {
    stopStream(audio);
    audio = null;
    try {
      audio = await openStream('audio', deviceId);
    } catch (error) {
      clearTimeout(silenceTimer);
      mediaError('microphone', mediaProblem(error));
      showHelp('microphone');
      return;
    }
  }
  const track = audio.getAudioTracks()[0];
  await fillDevices(microphoneSelect, 'audioinput', track?.getSettings().deviceId).catch(() => undefined);
  if (!(await startAudio(audioContext))) {
    // No level can be read at all: say so now rather than after the silence timer.
    clearTimeout(silenceTimer);
    $<HTMLElement>('#microphone-silent').textContent = tr('microphone.notStarted');
    showHelp('microphone');
    return;
  }
  levels = new LevelMeter(audioContext, audio);
  heardMs = 0;
  listeningSince = performance.now();
  const everyMs = 50;
  levels.listen((rms) => {
    meter.value = meterValue(rms);
    answers.microphoneLevel = Math.max(answers.microphoneLevel ?? 0, Math.min(1, rms));
    if (rms >= speechLevel) heardMs += everyMs;
    if (heardMs >= speechMs) finishMicrophone('detected');
  }, everyMs);
}

let microphoneDone = false;

function finishMicrophone(answer: MicrophoneAnswer): void {
  if (microphoneDone) return;
  microphoneDone = true;
  stopListening();
  answers.microphone = answer;
  answers.devices.microphone = audio?.getAudioTracks()[0]?.label || null;
  stopStream(audio);
  audio = null;
  setState('microphone', answer === 'detected' ? 'passed' : 'problem');
  if (answer === 'detected') {
    performance.measure('techtest:microphone', { start: listeningSince, end: performance.now() });
    announce(tr('microphone.detected'));
  }
  // A moment to see the meter's verdict before the next step takes over.
  setTimeout(startSoundStep, answer === 'detected' ? 1200 : 0);
}

function startMicrophoneStep(): void {
  show('microphone');
  void listen();
}

{
  const p = parts('microphone');
  p.action('retry').addEventListener('click', () => {
    hideHelp('microphone');
    void listen(audio ? undefined : microphoneSelect.value || undefined);
  });
  p.action('skip').addEventListener('click', () => finishMicrophone(audio ? 'silent' : 'unavailable'));
  microphoneSelect.addEventListener('change', () => void listen(microphoneSelect.value));
}

// ---- Sound -----------------------------------------------------------------------------------
const speakerSelect = $<HTMLSelectElement>('#speaker-device');
const playButton = $<HTMLButtonElement>('#play');

async function startSoundStep(): Promise<void> {
  show('sound');
  if (canChooseSpeaker())
    await fillDevices(speakerSelect, 'audiooutput', undefined, tr('sound.defaultSpeaker')).catch(() => undefined);
}

function finishSound(answer: SoundAnswer): void {
  answers.sound = answer;
  const chosen = speakerSelect.selectedOptions[0];
  answers.devices.speaker =
    !section('sound').querySelector<HTMLElement>('.device')!.hidden && chosen ? chosen.textContent : null;
  setState('sound', answer === 'yes' ? 'passed' : 'problem');
  void runNetworkStep();
}

{
  const p = parts('sound');
  playButton.addEventListener('click', async () => {
    playButton.disabled = true;
    $<HTMLElement>('#sound-help').textContent = tr('sound.help');
    let played = false;
    try {
      played = await playChime(audioContext, speakerSelect.value || undefined);
    } catch {
      played = false;
    } finally {
      playButton.disabled = false;
    }
    if (!played) {
      // The browser would not make any sound: asking "did you hear it?" would be a trick question.
      $<HTMLElement>('#sound-help').textContent = tr('sound.notStarted');
      showHelp('sound');
      return;
    }
    p.ask!.hidden = false;
    p.answer('yes').focus();
  });
  p.answer('yes').addEventListener('click', () => finishSound('yes'));
  p.answer('no').addEventListener('click', () => showHelp('sound'));
  p.action('retry').addEventListener('click', () => {
    hideHelp('sound');
    playButton.focus();
  });
  p.action('skip').addEventListener('click', () => finishSound('no'));
}

// ---- Internet connection ---------------------------------------------------------------------
const number = (digits: number) =>
  new Intl.NumberFormat(lang === 'sv' ? 'sv-SE' : 'en-GB', { maximumFractionDigits: digits });

function figureRows(n: NetworkFigures): [string, string][] {
  const missing = tr('network.notMeasured');
  // Skipped: no TURN at all, or none offered on this transport (a TLS-only TURN server has no UDP).
  const relay = (ok: boolean | null) =>
    !n.relayConfigured || ok === null ? tr('network.skipped') : ok ? tr('network.works') : tr('network.blocked');
  const ms = (v: number | null) => (v === null ? missing : tr('unit.ms', { value: number(0).format(v) }));
  const mbps = (kbps: number | null) =>
    kbps === null ? missing : tr('unit.mbps', { value: number(1).format(kbps / 1000) });
  const rows: [string, string][] = [
    [tr('network.relayUdp'), relay(n.relayUdp)],
    [tr('network.relayTcp'), relay(n.relayTcp)],
  ];
  if (n.relayConfigured) {
    rows.push(
      [tr('network.rtt'), ms(n.rttMs)],
      [tr('network.jitter'), ms(n.jitterMs)],
      [tr('network.loss'), n.loss === null ? missing : tr('unit.percent', { value: number(1).format(n.loss * 100) })],
      [tr('network.throughput'), mbps(n.throughputKbps)],
    );
  }
  rows.push([tr('network.download'), mbps(n.downloadKbps)], [tr('network.upload'), mbps(n.uploadKbps)]);
  return rows;
}

async function runNetworkStep(): Promise<void> {
  show('network');
  const figures = await network;
  const verdict: Verdict = connectionVerdict(figures);
  $<HTMLElement>('#network-running').hidden = true;
  const verdictEl = $<HTMLElement>('#verdict');
  verdictEl.textContent = tr(`verdict.${verdict}`);
  verdictEl.className = `verdict ${verdict}`;
  $<HTMLElement>('#advice').hidden = verdict === 'good';
  // Each verdict says what to do: improve a choppy connection, or fix one that will not work.
  if (verdict !== 'good') $<HTMLElement>('#advice-title').textContent = tr(`advice.${verdict}`);
  $<HTMLElement>('#figures').replaceChildren(
    ...figureRows(figures).map(([label, value]) => {
      const row = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = label;
      const td = document.createElement('td');
      td.textContent = value;
      row.append(th, td);
      return row;
    }),
  );
  $<HTMLElement>('#network-result').hidden = false;
  setState('network', verdict === 'good' ? 'passed' : verdict === 'poor' ? 'poor' : 'problem');
  root.dataset.verdict = verdict;

  const saved = await save({ ...answers, network: figures });
  $<HTMLElement>('#saved').textContent = tr(saved ? 'done.saved' : 'done.notSaved');
  section('done').hidden = false;
  document.querySelectorAll('.progress li').forEach((li) => li.removeAttribute('aria-current'));
  announce(`${tr(`verdict.${verdict}`)} ${tr(saved ? 'done.saved' : 'done.notSaved')}`);
  root.dataset.done = saved ? 'saved' : 'unsaved';
  $<HTMLElement>('#done-heading').focus();
}

async function save(result: TechTestAnswers): Promise<boolean> {
  try {
    const res = await fetch(`${base}/results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': crumb },
      body: JSON.stringify(result),
      credentials: 'same-origin',
    });
    return res.ok;
  } catch {
    return false;
  }
}

// ---- Start -----------------------------------------------------------------------------------
/** One permission question for both devices where possible; each alone when one is missing. */
async function openBoth(): Promise<{ video?: MediaStream; audio?: MediaStream; videoError?: unknown }> {
  try {
    const both = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    return { video: new MediaStream(both.getVideoTracks()), audio: new MediaStream(both.getAudioTracks()) };
  } catch {
    const [v, a] = await Promise.allSettled([openStream('video'), openStream('audio')]);
    return {
      video: v.status === 'fulfilled' ? v.value : undefined,
      videoError: v.status === 'rejected' ? v.reason : undefined,
      audio: a.status === 'fulfilled' ? a.value : undefined,
    };
  }
}

/** Once the browser has painted what the page just changed; a tab that paints nothing (hidden) waits `ms`. */
const afterPaint = (ms = 100) =>
  new Promise<void>((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, ms);
  });

const startButton = $<HTMLButtonElement>('#start');
if (canUseMedia()) {
  startButton.disabled = false;
  startButton.addEventListener('click', async () => {
    startButton.disabled = true;
    // The devices are asked for first: the browser opens them while the page does the rest.
    const opening = openBoth();
    // Created inside the click: browsers only let a page make sound after a person acted.
    audioContext = new AudioContext();
    show('camera');
    const opened = await opening;
    audio = opened.audio ?? null;
    if (opened.video) {
      await startCamera(undefined, opened.video);
      // "Running" for the benchmark: the person sees their own picture and the question.
      performance.mark('techtest:running');
    } else {
      mediaError('camera', mediaProblem(opened.videoError));
      showHelp('camera');
    }
    // The connection check needs nobody: it runs while the person looks at the camera. It starts
    // once the picture and the question have been painted, so that they do not wait for its peer
    // connections to be set up.
    // A browser that throws inside WebRTC still gets a verdict and can continue.
    network = afterPaint().then(() => checkNetwork({ base, crumb, ice: ice ?? undefined }).catch(noFigures));
  });
  root.dataset.ready = 'true';
} else {
  $<HTMLElement>('#unsupported').hidden = false;
}
