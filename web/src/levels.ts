// Audio level meters on WebAudio: the microphone meter in the device check and
// "who is speaking" for remote tracks (works even when the server sends no speaker updates).
let ctx: AudioContext | null = null;

export function audioContext(): AudioContext {
  if (!ctx) ctx = new AudioContext();
  if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
  return ctx;
}

export class LevelMeter {
  private analyser: AnalyserNode;
  private src: MediaStreamAudioSourceNode;
  private buf: Float32Array<ArrayBuffer>;

  constructor(track: MediaStreamTrack) {
    const c = audioContext();
    this.src = c.createMediaStreamSource(new MediaStream([track]));
    this.analyser = c.createAnalyser();
    this.analyser.fftSize = 512;
    this.buf = new Float32Array(this.analyser.fftSize);
    this.src.connect(this.analyser);
  }

  /** RMS level mapped to 0..1 (roughly perceptual). */
  level(): number {
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (let i = 0; i < this.buf.length; i++) sum += this.buf[i] * this.buf[i];
    const rms = Math.sqrt(sum / this.buf.length);
    // -60 dB .. 0 dB -> 0 .. 1
    const db = 20 * Math.log10(rms + 1e-9);
    return Math.min(1, Math.max(0, (db + 60) / 60));
  }

  close(): void {
    try {
      this.src.disconnect();
      this.analyser.disconnect();
    } catch {
      /* already gone */
    }
  }
}

/** A short two-tone chime for the speaker test, played through an optional output device. */
export async function playTestSound(sinkId?: string): Promise<void> {
  const c = new AudioContext();
  const dest = c.createMediaStreamDestination();
  const gain = c.createGain();
  gain.gain.value = 0.2;
  gain.connect(dest);
  const tones = [660, 880, 660];
  tones.forEach((f, i) => {
    const o = c.createOscillator();
    o.frequency.value = f;
    o.connect(gain);
    o.start(c.currentTime + i * 0.3);
    o.stop(c.currentTime + i * 0.3 + 0.25);
  });
  const audio = new Audio();
  audio.srcObject = dest.stream;
  const withSink = audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
  if (sinkId && withSink.setSinkId) await withSink.setSinkId(sinkId).catch(() => undefined);
  await audio.play();
  setTimeout(() => {
    audio.pause();
    void c.close();
  }, 1200);
}
