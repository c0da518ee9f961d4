// The test sound, made with WebAudio (no file to download): a rising three-note chime, played
// twice, loud enough to hear at a normal volume. Speaker choice where the browser allows it.

import { startAudio } from './media.ts';

type SinkAudioElement = HTMLAudioElement & { setSinkId?(id: string): Promise<void> };

/** Whether this browser can send sound to a chosen output (Chrome, Edge, Firefox ≥ 116). */
export const canChooseSpeaker = (): boolean =>
  typeof (HTMLMediaElement.prototype as SinkAudioElement).setSinkId === 'function';

/** Plays the chime; false when the browser's sound system would not start (nothing was played). */
export async function playChime(context: AudioContext, speakerId?: string): Promise<boolean> {
  if (!(await startAudio(context))) return false;
  let output: AudioNode = context.destination;
  let element: SinkAudioElement | undefined;
  if (speakerId && canChooseSpeaker()) {
    // AudioContext.setSinkId is Chrome-only; an audio element with setSinkId works in both engines.
    const stream = context.createMediaStreamDestination();
    element = new Audio();
    element.srcObject = stream.stream;
    await element.setSinkId(speakerId);
    await element.play();
    output = stream;
  }
  const gain = context.createGain();
  gain.connect(output);
  const start = context.currentTime + 0.05;
  const notes = [523.25, 659.25, 783.99]; // C5 E5 G5
  let end = start;
  for (let round = 0; round < 2; round += 1) {
    notes.forEach((frequency, i) => {
      const at = start + round * 1.0 + i * 0.22;
      const osc = context.createOscillator();
      const env = context.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      env.gain.setValueAtTime(0, at);
      env.gain.linearRampToValueAtTime(0.4, at + 0.02);
      env.gain.exponentialRampToValueAtTime(0.001, at + 0.5);
      osc.connect(env).connect(gain);
      osc.start(at);
      osc.stop(at + 0.55);
      end = at + 0.55;
    });
  }
  await new Promise((resolve) => setTimeout(resolve, (end - context.currentTime) * 1000 + 50));
  gain.disconnect();
  element?.pause();
  return true;
}
