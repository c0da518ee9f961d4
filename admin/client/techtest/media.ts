// Camera, microphone and speakers: streams, device lists and the microphone's level.

export type MediaProblem = 'denied' | 'notfound' | 'other';

export function mediaProblem(error: unknown): MediaProblem {
  const name = (error as { name?: string })?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'notfound';
  return 'other';
}

export const canUseMedia = (): boolean =>
  typeof navigator.mediaDevices?.getUserMedia === 'function' && typeof RTCPeerConnection === 'function';

export async function openStream(kind: 'video' | 'audio', deviceId?: string): Promise<MediaStream> {
  const constraint: MediaTrackConstraints | boolean = deviceId ? { deviceId: { exact: deviceId } } : true;
  return navigator.mediaDevices.getUserMedia(kind === 'video' ? { video: constraint } : { audio: constraint });
}

export const stopStream = (stream: MediaStream | null | undefined): void =>
  stream?.getTracks().forEach((t) => t.stop());

/** Fills a device choice; the wrapper shows only when there is a real choice (two or more). */
export async function fillDevices(
  select: HTMLSelectElement,
  kind: MediaDeviceKind,
  current: string | undefined,
  defaultLabel?: string,
): Promise<MediaDeviceInfo[]> {
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind && d.deviceId !== '');
  select.replaceChildren(
    ...devices.map((d, i) => {
      const option = document.createElement('option');
      option.value = d.deviceId;
      option.textContent = d.label || (d.deviceId === 'default' && defaultLabel) || `${kind} ${i + 1}`;
      option.selected = d.deviceId === current;
      return option;
    }),
  );
  select.closest<HTMLElement>('.device')!.hidden = devices.length < 2;
  return devices;
}

/** How long the browser gets to start its sound system before the page says it did not. */
export const audioStartMs = 3000;

/**
 * Asks the browser to start its sound system. False when it has not started within `ms`: some
 * browsers never start it (Firefox ESR on a machine without a sound device stays "suspended",
 * its resume() never settling), and the page must not wait for it forever.
 */
export async function startAudio(context: AudioContext, ms = audioStartMs): Promise<boolean> {
  if (context.state !== 'running') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      context.resume().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }
  return context.state === 'running';
}

/**
 * Reads the microphone's loudness (RMS of the waveform, 0..1) a few times a second. Speech
 * close to a laptop or phone microphone lies around 0.03–0.3; a quiet room below 0.005.
 */
export class LevelMeter {
  readonly #analyser: AnalyserNode;
  readonly #source: MediaStreamAudioSourceNode;
  readonly #samples: Float32Array<ArrayBuffer>;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(context: AudioContext, stream: MediaStream) {
    this.#source = context.createMediaStreamSource(stream);
    this.#analyser = context.createAnalyser();
    this.#analyser.fftSize = 2048;
    this.#samples = new Float32Array(this.#analyser.fftSize);
    this.#source.connect(this.#analyser);
  }

  level(): number {
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const s of this.#samples) sum += s * s;
    return Math.sqrt(sum / this.#samples.length);
  }

  listen(onLevel: (rms: number) => void, everyMs = 50): void {
    this.stop();
    this.#timer = setInterval(() => onLevel(this.level()), everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stop();
    this.#source.disconnect();
  }
}

/** Where the meter's needle goes: a decibel scale, so that speech moves it visibly. */
export const meterValue = (rms: number): number =>
  Math.max(0, Math.min(1, (20 * Math.log10(Math.max(rms, 1e-6)) + 60) / 60));
