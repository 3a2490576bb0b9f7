// /l/<id>: the public lecture page, made for phones. A viewer watches over WebRTC
// (subscribe only, hidden from everyone) or, when the lecture's WebRTC seats are taken or
// WebRTC fails, the HLS stream (hls.js, or the browser's own player on iOS). Viewers may
// ask a question or raise a hand; one brought on stage may turn on microphone and camera.
import { DisconnectReason, Room, RoomEvent, Track, type RemoteTrack, type RemoteTrackPublication, type Participant } from 'livekit-client';
import { ApiError, get, post } from './api';
import { h, T, setT, mount, toast } from './dom';
import { t } from './i18n';
import { icon } from './icons';
import { header, errorBox, spinner } from './shell';

interface PublicLecture { id: number; title: string; state: string; viewers: number; hls: string; scheduled_at?: string; centre?: string; archive?: string }
interface JoinAnswer { url?: string; token?: string; identity?: string; hls?: string; ask_token?: string }

/** How long WebRTC may take to show a picture before the page falls back to HLS. */
const WEBRTC_GRACE_MS = 12000;

export async function lecturePage(root: HTMLElement, id: string): Promise<void> {
  const main = h('main', { class: 'page lecture-page' });
  mount(root, header(), main);
  mount(main, spinner());
  let info: PublicLecture;
  try {
    info = await get<PublicLecture>(`/api/public/lectures/${encodeURIComponent(id)}`);
  } catch (e) {
    mount(main, errorBox(e instanceof ApiError && e.status === 404 ? t('not_found') : (e as Error).message, () => void lecturePage(root, id)));
    return;
  }
  document.title = info.title;
  const stateChip = h('span', { class: 'chip' + (info.state === 'live' ? ' live' : '') }, T(('lec_state_' + info.state) as 'lec_state_live'));
  const viewers = T('lec_viewers', { n: info.viewers });
  const head = h(
    'div',
    { class: 'lecture-head' },
    h('h1', null, info.title),
    h('div', { class: 'row small muted' }, stateChip, info.centre ? h('span', null, info.centre) : null, h('span', { class: 'viewers', dataset: { viewers: String(info.viewers) } }, icon('users'), viewers)),
  );

  if (info.state === 'ended') {
    const body = h('div', { class: 'card' }, h('p', null, T('lec_ended_body')));
    mount(main, head, body);
    if (info.archive) body.appendChild(h('div', null, h('h2', null, icon('play'), T('lec_archive')), hlsPlayer(info.archive, false).el));
    return;
  }

  const guest = new URLSearchParams(location.search).get('guest');
  if (guest) {
    guestEntry(main, head, info, guest, viewers);
    return;
  }

  const name = h('input', { name: 'name', maxlength: '40', tPlaceholder: 'lec_your_name' });
  const village = h('input', { name: 'centre', maxlength: '60', tPlaceholder: 'lec_your_village' });
  const form = h(
    'form',
    {
      class: 'card lecture-join',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void watch(main, head, info, name.value.trim(), village.value.trim(), viewers);
      },
    },
    info.state === 'scheduled' ? h('p', { class: 'muted' }, T('lec_not_started')) : null,
    h('label', null, T('lec_your_name'), name),
    h('label', null, T('lec_your_village'), village),
    h('button', { class: 'btn primary block', type: 'submit', 'data-action': 'watch' }, icon('play'), T('lec_watch')),
  );
  mount(main, head, form);
}

async function watch(main: HTMLElement, head: HTMLElement, info: PublicLecture, name: string, centre: string, viewers: HTMLElement): Promise<void> {
  mount(main, head, spinner());
  let j: JoinAnswer;
  try {
    j = await post<JoinAnswer>(`/api/public/lectures/${info.id}/join`, { name, centre });
  } catch (e) {
    mount(main, head, errorBox((e as Error).message, () => void watch(main, head, info, name, centre, viewers)));
    return;
  }
  const screen = h('div', { class: 'lecture-screen' });
  const notice = h('div', { class: 'banner info hidden', role: 'status' });
  const stageBox = h('div', { class: 'lecture-stage-me hidden' });
  const asker = askBox(info.id, j.identity || '', j.token || j.ask_token || '');
  mount(main, head, notice, screen, stageBox, asker);
  const hlsURL = j.hls || info.hls;
  const toHLS = (why?: 'fallback') => {
    if (!hlsURL) return;
    main.dataset.mode = 'hls';
    if (why) {
      notice.replaceChildren(icon('wifi'), T('lec_fallback'));
      notice.classList.remove('hidden');
    }
    mount(screen, hlsPlayer(hlsURL, true).el);
  };
  if (!j.token || !j.url) {
    toHLS();
    return;
  }
  main.dataset.mode = 'webrtc';
  const v = new WebRTCViewer(j.url, j.token, screen, stageBox, (n) => {
    setT(viewers, 'lec_viewers', { n });
    (viewers.parentElement as HTMLElement).dataset.viewers = String(n);
  });
  const fallback = () => {
    if (main.dataset.mode !== 'webrtc') return;
    v.close();
    toHLS('fallback');
  };
  v.onEnded = () => {
    mount(main, head, h('div', { class: 'card' }, h('p', null, T('lec_ended_body'))));
  };
  v.onFailed = fallback;
  try {
    await v.start();
  } catch {
    fallback();
    return;
  }
  // A lecture that is live but shows nothing for long: WebRTC is blocked on the way.
  setTimeout(() => {
    if (info.state === 'live' && !v.hasPicture()) fallback();
  }, WEBRTC_GRACE_MS);
}

/** A guest speaker's link (?guest=CODE): no account; joins on stage with camera and microphone. */
function guestEntry(main: HTMLElement, head: HTMLElement, info: PublicLecture, code: string, viewers: HTMLElement): void {
  const go = async () => {
    mount(main, head, spinner());
    let j: JoinAnswer & { name?: string };
    try {
      j = await post<JoinAnswer & { name?: string }>(`/api/public/lectures/${info.id}/guest-join`, { code });
    } catch (e) {
      const msg = e instanceof ApiError && e.status === 403 ? t('lec_guest_bad_link') : (e as Error).message;
      mount(main, head, errorBox(msg, () => void go()));
      return;
    }
    const screen = h('div', { class: 'lecture-screen' });
    const stageBox = h('div', { class: 'lecture-stage-me' });
    mount(main, head, stageBox, screen);
    main.dataset.mode = 'guest';
    const v = new WebRTCViewer(j.url || '', j.token || '', screen, stageBox, (n) => {
      setT(viewers, 'lec_viewers', { n });
      (viewers.parentElement as HTMLElement).dataset.viewers = String(n);
    });
    v.onEnded = () => mount(main, head, h('div', { class: 'card' }, h('p', null, T('lec_ended_body'))));
    v.onFailed = () => mount(main, head, errorBox(t('connect_failed', { msg: '' }), () => void go()));
    try {
      await v.start();
    } catch (e) {
      mount(main, head, errorBox(t('connect_failed', { msg: (e as Error).message }), () => void go()));
      return;
    }
    await v.guestOnStage(j.name || '');
  };
  mount(
    main,
    head,
    h(
      'div',
      { class: 'card lecture-join' },
      h('h2', null, icon('star'), T('lec_guests')),
      info.state === 'scheduled' ? h('p', { class: 'muted' }, T('lec_not_started')) : null,
      h('button', { class: 'btn primary block', type: 'button', 'data-action': 'guest-enter', onclick: () => void go() }, icon('cam'), T('lec_guest_enter')),
    ),
  );
}

/** The WebRTC viewer: the speakers' pictures (the speaker large), their sound, the count. */
class WebRTCViewer {
  readonly room: Room;
  onEnded: () => void = () => undefined;
  onFailed: () => void = () => undefined;
  private main = h('video', { class: 'lecture-video', autoplay: true, playsInline: true, muted: true });
  private strip = h('div', { class: 'lecture-strip' });
  private sound = h('button', { class: 'btn primary sound-btn hidden', type: 'button' }, icon('speaker'), T('lec_tap_sound'));
  private audio = h('div', { class: 'audio-sink', 'aria-hidden': 'true' });
  private videos = new Map<string, { track: RemoteTrack; p: Participant }>();
  private closed = false;

  constructor(
    private url: string,
    private token: string,
    screen: HTMLElement,
    private stageBox: HTMLElement,
    private onCount: (n: number) => void,
  ) {
    // adaptive stream: the server sends the layer that fits this phone's picture
    this.room = new Room({ adaptiveStream: true, dynacast: false });
    mount(screen, h('div', { class: 'lecture-main' }, this.main, this.sound), this.strip, this.audio);
    this.sound.addEventListener('click', () => void this.room.startAudio().then(() => this.refreshSound()));
    const r = this.room;
    r.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _pub: RemoteTrackPublication, p: Participant) => {
      if (track.kind === Track.Kind.Audio) {
        this.audio.appendChild(track.attach());
        this.refreshSound();
      } else {
        this.videos.set(track.sid || p.identity, { track, p });
        this.layout();
      }
    });
    r.on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => {
      track.detach().forEach((el) => el.remove());
      this.videos.delete(track.sid || '');
      this.layout();
    });
    r.on(RoomEvent.RoomMetadataChanged, () => this.meta());
    r.on(RoomEvent.AudioPlaybackStatusChanged, () => this.refreshSound());
    r.on(RoomEvent.ParticipantPermissionsChanged, (_prev: unknown, p: Participant) => {
      if (p === r.localParticipant) void this.stage();
    });
    r.on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      if (this.closed) return;
      const m = this.lectureMeta();
      if (m?.state === 'ended' || reason === DisconnectReason.ROOM_DELETED || reason === DisconnectReason.ROOM_CLOSED) this.onEnded();
      else this.onFailed();
    });
  }

  async start(): Promise<void> {
    await this.room.connect(this.url, this.token, { autoSubscribe: true });
    this.meta();
    this.refreshSound();
  }

  close(): void {
    this.closed = true;
    void this.room.disconnect();
  }

  hasPicture(): boolean {
    return this.main.videoWidth > 0;
  }

  private lectureMeta(): { viewers?: number; state?: string; stage?: string[] } | undefined {
    try {
      return (JSON.parse(this.room.metadata || '{}') as { lecture?: { viewers?: number; state?: string; stage?: string[] } }).lecture;
    } catch {
      return undefined;
    }
  }

  private meta(): void {
    const m = this.lectureMeta();
    if (m && typeof m.viewers === 'number') this.onCount(m.viewers);
  }

  /** The speaker's camera large; anyone else on stage in the strip below. */
  private layout(): void {
    const rank = (p: Participant) => (p.attributes?.role === 'speaker' ? 0 : p.attributes?.role === 'moderator' ? 1 : 2);
    const all = [...this.videos.values()].sort((a, b) => rank(a.p) - rank(b.p));
    const first = all[0];
    if (first) first.track.attach(this.main);
    this.main.dataset.identity = first?.p.identity || '';
    this.strip.replaceChildren(
      ...all.slice(1).map((x) => {
        const el = h('video', { autoplay: true, playsInline: true, muted: true, dataset: { identity: x.p.identity } });
        x.track.attach(el);
        return h('div', { class: 'lecture-tile' }, el, h('span', null, x.p.name || x.p.identity));
      }),
    );
  }

  private refreshSound(): void {
    this.sound.classList.toggle('hidden', this.room.canPlaybackAudio);
  }

  /** A guest speaker: camera and microphone on at once, with switches. */
  async guestOnStage(name: string): Promise<void> {
    const lp = this.room.localParticipant;
    await lp.setMicrophoneEnabled(true).catch((e) => toast((e as Error).message, 'error'));
    await lp.setCameraEnabled(true).catch((e) => toast((e as Error).message, 'error'));
    const draw = () => {
      const mic = lp.isMicrophoneEnabled;
      const cam = lp.isCameraEnabled;
      mount(
        this.stageBox,
        h('p', null, icon('star'), T('lec_guest_welcome', { name }), ' ', T('lec_guest_on_stage')),
        h(
          'div',
          { class: 'row' },
          h('button', { class: 'btn' + (mic ? '' : ' danger'), type: 'button', 'data-action': 'guest-mic', onclick: () => void lp.setMicrophoneEnabled(!mic).catch((e) => toast((e as Error).message, 'error')).then(draw) }, icon('mic'), T(mic ? 'lec_mic_off' : 'lec_mic_on')),
          h('button', { class: 'btn' + (cam ? '' : ' danger'), type: 'button', 'data-action': 'guest-cam', onclick: () => void lp.setCameraEnabled(!cam).catch((e) => toast((e as Error).message, 'error')).then(draw) }, icon('cam'), T(cam ? 'lec_cam_off' : 'lec_cam_on')),
        ),
      );
    };
    draw();
    this.stageBox.classList.remove('hidden');
  }

  /** Brought on stage: offer microphone and camera; taken off: turn them off. */
  private async stage(): Promise<void> {
    const lp = this.room.localParticipant;
    if (!lp.permissions?.canPublish) {
      await lp.setMicrophoneEnabled(false).catch(() => undefined);
      await lp.setCameraEnabled(false).catch(() => undefined);
      this.stageBox.classList.add('hidden');
      return;
    }
    const mic = h('button', { class: 'btn', type: 'button', onclick: () => void lp.setMicrophoneEnabled(true).catch((e) => toast((e as Error).message, 'error')) }, icon('mic'), T('lec_mic_on'));
    const cam = h('button', { class: 'btn', type: 'button', onclick: () => void lp.setCameraEnabled(true).catch((e) => toast((e as Error).message, 'error')) }, icon('cam'), T('lec_cam_on'));
    mount(this.stageBox, h('p', null, icon('star'), T('lec_you_on_stage')), h('div', { class: 'row' }, mic, cam));
    this.stageBox.classList.remove('hidden');
  }
}

/** An HLS player: hls.js where Media Source works, the browser's own player otherwise. */
export function hlsPlayer(url: string, live: boolean): { el: HTMLElement } {
  const video = h('video', { class: 'lecture-video', controls: true, autoplay: true, playsInline: true, muted: live, dataset: { src: url } });
  const sound = h('button', { class: 'btn primary sound-btn' + (live ? '' : ' hidden'), type: 'button' }, icon('speaker'), T('lec_tap_sound'));
  sound.addEventListener('click', () => {
    video.muted = false;
    void video.play().catch(() => undefined);
    sound.classList.add('hidden');
  });
  const el = h('div', { class: 'lecture-main hls', dataset: { hls: url } }, video, sound);
  void (async () => {
    const { default: Hls } = await import('hls.js');
    if (Hls.isSupported()) {
      // two target durations behind the edge: about 3 s from speaker to phone
      const hls = new Hls({ liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6, maxBufferLength: 10, backBufferLength: 30 });
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(Hls.Events.ERROR, (_e, d) => {
        if (d.fatal && d.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => hls.startLoad(), 2000);
        else if (d.fatal && d.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      });
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
    }
    void video.play().catch(() => undefined);
  })();
  return { el };
}

function askBox(lecture: number, identity: string, token: string): HTMLElement {
  if (!identity || !token) return h('div', { class: 'card muted small' }, T('lec_no_ask_hls'));
  const text = h('textarea', { name: 'question', maxlength: '300', rows: '2', tPlaceholder: 'lec_ask_ph' });
  const send = async (hand: boolean) => {
    const q = text.value.trim();
    if (!hand && !q) return;
    try {
      await post(`/api/public/lectures/${lecture}/questions`, { identity, token, text: hand ? q : q, hand });
      text.value = '';
      toast(t(hand ? 'lec_hand_sent' : 'lec_sent'));
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  return h(
    'form',
    {
      class: 'card lecture-ask',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void send(false);
      },
    },
    h('h2', null, T('lec_ask')),
    text,
    h(
      'div',
      { class: 'row' },
      h('button', { class: 'btn primary', type: 'submit', 'data-action': 'ask' }, T('lec_send')),
      h('button', { class: 'btn', type: 'button', 'data-action': 'hand', onclick: () => void send(true) }, T('lec_raise_hand')),
    ),
  );
}
