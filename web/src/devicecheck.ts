// The device check before joining: camera preview, microphone level meter, speaker test
// sound, a network check against this server, device pickers and "audio only".
import { createLocalAudioTrack, createLocalVideoTrack, type LocalAudioTrack, type LocalTrack, type LocalVideoTrack, Room } from 'livekit-client';
import { h, T, setT } from './dom';
import { icon } from './icons';
import { t } from './i18n';
import { LevelMeter, playTestSound } from './levels';

export interface DeviceChoice {
  tracks: LocalTrack[];
  audioOnly: boolean;
  videoDeviceId?: string;
  audioDeviceId?: string;
  outputDeviceId?: string;
}

export interface DeviceCheck {
  el: HTMLElement;
  /** Stop everything (when the page goes elsewhere without joining). */
  stop(): void;
}

const VIDEO = { resolution: { width: 640, height: 360, frameRate: 24 } };

export function deviceCheck(onDone: (c: DeviceChoice) => void, onBack?: () => void): DeviceCheck {
  let video: LocalVideoTrack | undefined;
  let audio: LocalAudioTrack | undefined;
  let meter: LevelMeter | undefined;
  let raf = 0;
  let stopped = false;

  const preview = h('video', { autoplay: true, playsInline: true, muted: true });
  const noVideo = h('div', { class: 'dc-novideo hidden' }, T('dc_no_camera'));
  const meterBar = h('div');
  const camSel = h('select', { 'aria-label': t('dc_camera') });
  const micSel = h('select', { 'aria-label': t('dc_mic') });
  const outSel = h('select', { 'aria-label': t('dc_speaker') });
  const camLine = h('div', { class: 'check-line' }, T('dc_permission'));
  const micLine = h('div', { class: 'check-line' });
  const netLine = h('div', { class: 'check-line' }, T('dc_network_testing'));
  const audioOnly = h('input', { type: 'checkbox', name: 'audio-only' });
  const cont = h('button', { class: 'btn primary', type: 'button', 'data-action': 'devices-ok' }, icon('check'), T('dc_continue'));
  const canPickOutput = 'setSinkId' in HTMLMediaElement.prototype;

  const el = h(
    'div',
    { class: 'card device-check' },
    h('h2', null, T('dc_title')),
    h(
      'div',
      { class: 'dc-grid' },
      h('div', null, h('div', { class: 'dc-preview' }, preview, noVideo), camLine),
      h(
        'div',
        { class: 'col' },
        h('label', null, h('span', null, icon('cam'), ' ', T('dc_camera')), camSel),
        h('label', null, h('span', null, icon('mic'), ' ', T('dc_mic')), micSel),
        h('div', { class: 'meter', role: 'meter', 'aria-label': t('dc_mic') }, meterBar),
        h('div', { class: 'muted small' }, T('dc_mic_hint')),
        micLine,
        canPickOutput ? h('label', null, h('span', null, icon('speaker'), ' ', T('dc_speaker')), outSel) : null,
        h(
          'div',
          { class: 'row' },
          h('button', { class: 'btn small', type: 'button', onclick: () => void playTestSound(outSel.value || undefined) }, icon('speaker'), T('dc_speaker_test')),
          h('span', { class: 'muted small' }, T('dc_speaker_hint')),
        ),
        h('div', { class: 'row' }, h('button', { class: 'btn small', type: 'button', onclick: () => void netCheck() }, icon('wifi'), T('dc_network_test')), netLine),
        h('label', { class: 'check' }, audioOnly, T('dc_audio_only')),
      ),
    ),
    h('div', { class: 'actions end' }, onBack ? h('button', { class: 'btn', type: 'button', onclick: onBack }, T('back')) : null, cont),
  );

  async function startVideo(deviceId?: string): Promise<void> {
    video?.stop();
    video = undefined;
    if (audioOnly.checked) {
      preview.classList.add('hidden');
      noVideo.classList.remove('hidden');
      setT(noVideo, 'dc_audio_only');
      return;
    }
    try {
      const v = await createLocalVideoTrack({ ...VIDEO, deviceId });
      if (stopped) {
        v.stop(); // the page moved on while the camera was starting
        return;
      }
      video = v;
      video.attach(preview);
      preview.classList.remove('hidden');
      noVideo.classList.add('hidden');
      camLine.className = 'check-line ok';
      camLine.replaceChildren(icon('check'), T('dc_camera'));
    } catch {
      preview.classList.add('hidden');
      noVideo.classList.remove('hidden');
      setT(noVideo, 'dc_no_camera');
      camLine.className = 'check-line warn';
      camLine.replaceChildren(icon('alert'), T('dc_no_camera'));
      audioOnly.checked = true;
    }
  }

  async function startAudio(deviceId?: string): Promise<void> {
    meter?.close();
    meter = undefined;
    audio?.stop();
    audio = undefined;
    try {
      const a = await createLocalAudioTrack({ deviceId, echoCancellation: true, noiseSuppression: true, autoGainControl: true });
      if (stopped) {
        a.stop();
        return;
      }
      audio = a;
      meter = new LevelMeter(audio.mediaStreamTrack);
      micLine.className = 'check-line ok';
      micLine.replaceChildren(icon('check'), T('dc_mic'));
    } catch {
      micLine.className = 'check-line bad';
      micLine.replaceChildren(icon('alert'), T('dc_no_mic'));
    }
  }

  async function fillDevices(): Promise<void> {
    const fill = async (sel: HTMLSelectElement, kind: MediaDeviceKind, current?: string) => {
      let list: MediaDeviceInfo[] = [];
      try {
        list = await Room.getLocalDevices(kind, false);
      } catch {
        /* none */
      }
      sel.replaceChildren(
        ...(list.length ? list : [{ deviceId: '', label: t('dc_default') } as MediaDeviceInfo]).map((d, i) =>
          h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${kind} ${i + 1}`),
        ),
      );
    };
    await fill(camSel, 'videoinput', video?.mediaStreamTrack.getSettings().deviceId);
    await fill(micSel, 'audioinput', audio?.mediaStreamTrack.getSettings().deviceId);
    if (canPickOutput) await fill(outSel, 'audiooutput');
  }

  function loop(): void {
    if (stopped) return;
    meterBar.style.width = `${Math.round((meter?.level() ?? 0) * 100)}%`;
    raf = requestAnimationFrame(loop);
  }

  async function netCheck(): Promise<void> {
    netLine.className = 'check-line';
    netLine.replaceChildren(T('dc_network_testing'));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      try {
        await fetch('/healthz?nc=' + Date.now(), { cache: 'no-store' });
        times.push(performance.now() - t0);
      } catch {
        /* unreachable */
      }
    }
    if (!times.length) {
      netLine.className = 'check-line bad';
      netLine.replaceChildren(icon('alert'), T('dc_network_fail'));
      return;
    }
    times.sort((a, b) => a - b);
    const ms = Math.round(times[Math.floor(times.length / 2)]);
    const slow = ms > 400;
    netLine.className = 'check-line ' + (slow ? 'warn' : 'ok');
    netLine.dataset.rtt = String(ms);
    netLine.replaceChildren(icon(slow ? 'alert' : 'check'), T(slow ? 'dc_network_slow' : 'dc_network_ok', { ms }));
  }

  camSel.addEventListener('change', () => void startVideo(camSel.value || undefined));
  micSel.addEventListener('change', () => void startAudio(micSel.value || undefined));
  audioOnly.addEventListener('change', () => void startVideo(camSel.value || undefined));
  cont.addEventListener('click', () => {
    stopped = true;
    cancelAnimationFrame(raf);
    meter?.close();
    const tracks: LocalTrack[] = [];
    if (audio) tracks.push(audio);
    if (video && !audioOnly.checked) tracks.push(video);
    else video?.stop();
    preview.srcObject = null;
    onDone({
      tracks,
      audioOnly: audioOnly.checked,
      videoDeviceId: camSel.value || undefined,
      audioDeviceId: micSel.value || undefined,
      outputDeviceId: outSel.value || undefined,
    });
  });

  void (async () => {
    await Promise.all([startVideo(), startAudio()]);
    await fillDevices();
    loop();
    await netCheck();
  })();

  return {
    el,
    stop() {
      stopped = true;
      cancelAnimationFrame(raf);
      meter?.close();
      video?.stop();
      audio?.stop();
    },
  };
}
