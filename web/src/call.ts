// The in-session view shared by the room page, the party page and the staff console:
// a grid of tiles for everyone in my space, where I am and who hears me, the private-meeting
// notice, the recording indicator, the reconnecting banner and the controls.
import {
  ConnectionQuality,
  ConnectionState,
  DisconnectReason,
  type LocalTrack,
  type Participant,
  type RemoteTrack,
  type RemoteTrackPublication,
  Room,
  RoomEvent,
  Track,
  type VideoTrack,
} from 'livekit-client';
import { h, T, setT, elapsed, toast } from './dom';
import { icon, type IconName } from './icons';
import { getLang, onLang, t, joinNames } from './i18n';
import { LevelMeter } from './levels';
import { attr, displayName, inLobby, isJointSpace, isRecording, roleLabel, roomMeta, spaceLabel, spaceOf } from './meta';

export interface CallOptions {
  url: string;
  token: string;
  /** Tracks made by the device check; published as they are. */
  tracks?: LocalTrack[];
  audioOnly?: boolean;
  videoDeviceId?: string;
  audioDeviceId?: string;
  outputDeviceId?: string;
  /** Publish camera and microphone (default true). */
  publish?: boolean;
  /** Extra buttons for the control bar. */
  extraControls?: HTMLElement[];
  /** Shown under the lobby title. */
  lobbyNote?: HTMLElement;
  /** Called once the call is over (left, removed, room closed). */
  onEnd?: (reason: DisconnectReason | undefined) => void;
  /** Called on every state refresh (lobby <-> session etc.). */
  onChange?: (c: Call) => void;
  /** Ask before leaving. */
  confirmLeave?: boolean;
  /**
   * Fetch a fresh token after the connection was lost for good (e.g. the short-lived token
   * expired before a reconnect). Without it a lost connection ends the call.
   */
  rejoin?: () => Promise<{ url: string; token: string }>;
}

// Disconnect reasons after which coming back makes no sense.
const FINAL = new Set<DisconnectReason>([
  DisconnectReason.CLIENT_INITIATED,
  DisconnectReason.DUPLICATE_IDENTITY,
  DisconnectReason.PARTICIPANT_REMOVED,
  DisconnectReason.ROOM_DELETED,
  DisconnectReason.ROOM_CLOSED,
]);

interface Tile {
  el: HTMLElement;
  quality: HTMLElement;
  video: HTMLVideoElement;
  avatar: HTMLElement;
  name: HTMLElement;
  role: HTMLElement;
  mic: HTMLElement;
  track?: VideoTrack;
}

export class Call {
  readonly el: HTMLElement;
  readonly room: Room;
  private opts: CallOptions;
  private grid: HTMLElement;
  private banner: HTMLElement;
  private weak: HTMLElement;
  private where: HTMLElement;
  private hears: HTMLElement;
  private rec: HTMLElement;
  private count: HTMLElement;
  private elsewhere: HTMLElement;
  private lobby: HTMLElement;
  private lobbyTime: HTMLElement;
  private audioSink: HTMLElement;
  private soundBtn: HTMLElement;
  private micBtn: HTMLButtonElement;
  private camBtn: HTMLButtonElement;
  private aoBtn: HTMLButtonElement;
  private tiles = new Map<string, Tile>();
  private meters = new Map<string, LevelMeter>(); // remote audio track sid -> meter
  private levels = new Map<string, number>(); // identity -> smoothed level
  private audioOnly: boolean;
  private lobbySince = 0;
  private timer = 0;
  private refreshQueued = false;
  private ended = false;
  lastState = '';

  constructor(opts: CallOptions) {
    this.opts = opts;
    this.audioOnly = !!opts.audioOnly;
    this.room = new Room({
      // a small tile gets the small layer, a hidden one none; a publisher sends only the
      // layers someone watches (issue 13: weak links)
      adaptiveStream: true,
      dynacast: true,
      videoCaptureDefaults: { resolution: { width: 640, height: 360, frameRate: 24 } },
      publishDefaults: { simulcast: true },
      audioCaptureDefaults: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      audioOutput: opts.outputDeviceId ? { deviceId: opts.outputDeviceId } : undefined,
    });
    this.banner = h('div', { class: 'banner warn hidden', role: 'alert' }, icon('wifi'), T('reconnecting'));
    // my own link is weak: say what helps (the server already favours my sound)
    this.weak = h(
      'div',
      { class: 'banner warn weak-link hidden', role: 'status' },
      icon('wifi'),
      h('span', null, T('weak_link_self')),
      h('button', { class: 'btn small', type: 'button', onclick: () => void this.setAudioOnly(true) }, T('audio_only')),
    );
    this.where = h('span', { class: 'where-text' });
    this.hears = h('span', { class: 'hears-text' });
    this.rec = h('span', { class: 'rec-ind hidden', role: 'status' }, icon('rec', 'blink'), T('recording_on'));
    this.count = h('span', { class: 'count' });
    this.elsewhere = h('div', { class: 'elsewhere' });
    this.lobbyTime = h('div', { class: 'lobby-time' });
    // a self-view while waiting, from the device check's camera: time to fix the picture
    const selfTrack = opts.tracks?.find((tr) => tr.kind === Track.Kind.Video);
    const selfView = selfTrack ? h('video', { class: 'lobby-self', autoplay: true, playsInline: true, muted: true }) : null;
    if (selfTrack && selfView) selfTrack.attach(selfView);
    this.lobby = h(
      'div',
      { class: 'lobby-panel hidden' },
      h('div', { class: 'lobby-icon' }, icon('door')),
      h('h2', null, T('lobby_title')),
      h('p', { class: 'muted' }, T('lobby_body')),
      this.lobbyTime,
      selfView,
      opts.lobbyNote ?? null,
    );
    this.grid = h('div', { class: 'grid' });
    this.audioSink = h('div', { class: 'audio-sink', 'aria-hidden': 'true' });
    this.soundBtn = h(
      'button',
      { class: 'btn primary sound-btn hidden', onclick: () => void this.room.startAudio().then(() => this.refresh()) },
      icon('speaker'),
      T('enable_sound'),
    );
    this.micBtn = this.ctl('mic', 'mute', () => void this.toggleMic());
    this.camBtn = this.ctl('cam', 'camera_off', () => void this.toggleCam());
    this.aoBtn = this.ctl('headphones', 'audio_only', () => void this.toggleAudioOnly());
    const leaveBtn = this.ctl('leave', 'leave', () => void this.leave(true));
    leaveBtn.classList.add('danger');
    this.el = h(
      'div',
      { class: 'call' },
      this.banner,
      this.weak,
      h(
        'div',
        { class: 'call-top' },
        h('div', { class: 'where' }, icon('lock'), h('div', null, this.where, this.hears)),
        h('div', { class: 'call-top-right' }, this.rec, this.count),
      ),
      this.elsewhere,
      h('div', { class: 'stage' }, this.lobby, this.grid, this.soundBtn),
      h('div', { class: 'controls' }, this.micBtn, this.camBtn, this.aoBtn, ...(opts.extraControls ?? []), leaveBtn),
      this.audioSink,
    );
    this.wire();
    this.offLang = onLang(() => this.queueRefresh()); // names and labels built with t()
  }

  private offLang: () => void;

  private ctl(ic: IconName, key: Parameters<typeof T>[0], f: () => void): HTMLButtonElement {
    return h('button', { class: 'ctl', type: 'button', onclick: f, dataset: { ctl: key } }, icon(ic), T(key));
  }

  private setCtl(b: HTMLButtonElement, ic: IconName, key: Parameters<typeof T>[0], on: boolean): void {
    b.replaceChild(icon(ic), b.firstChild as Node);
    setT(b.lastChild as HTMLElement, key);
    b.classList.toggle('off', on);
    b.setAttribute('aria-pressed', String(on));
  }

  private wire(): void {
    const r = this.room;
    const q = () => this.queueRefresh();
    for (const ev of [
      RoomEvent.ParticipantConnected,
      RoomEvent.ParticipantDisconnected,
      RoomEvent.TrackPublished,
      RoomEvent.TrackUnpublished,
      RoomEvent.TrackMuted,
      RoomEvent.TrackUnmuted,
      RoomEvent.LocalTrackPublished,
      RoomEvent.LocalTrackUnpublished,
      RoomEvent.ParticipantAttributesChanged,
      RoomEvent.ParticipantNameChanged,
      RoomEvent.RoomMetadataChanged,
      RoomEvent.ActiveSpeakersChanged,
      RoomEvent.ParticipantPermissionsChanged,
      RoomEvent.AudioPlaybackStatusChanged,
    ]) {
      r.on(ev, q);
    }
    r.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _pub: RemoteTrackPublication, p: Participant) => {
      if (track.kind === Track.Kind.Audio) {
        const el = track.attach();
        el.dataset.identity = p.identity;
        this.audioSink.appendChild(el);
        try {
          this.meters.set(track.sid ?? '', new LevelMeter(track.mediaStreamTrack));
        } catch {
          /* no WebAudio */
        }
      } else if (this.audioOnly) {
        _pub.setSubscribed(false);
      }
      q();
    });
    r.on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => {
      if (track.kind === Track.Kind.Audio) {
        track.detach().forEach((e) => e.remove());
        const m = this.meters.get(track.sid ?? '');
        m?.close();
        this.meters.delete(track.sid ?? '');
      } else {
        track.detach();
        for (const tile of this.tiles.values()) if (tile.track === track) tile.track = undefined;
      }
      q();
    });
    r.on(RoomEvent.TrackMuted, (pub, p) => {
      if (p === r.localParticipant && pub.source === Track.Source.Microphone) {
        // A mute we did not ask for came from the host.
        if (!this.selfMuting) toast(t('server_muted_you'));
      }
    });
    r.on(RoomEvent.ConnectionQualityChanged, q);
    r.on(RoomEvent.TrackStreamStateChanged, q);
    r.on(RoomEvent.Reconnecting, () => this.showBanner(true));
    r.on(RoomEvent.SignalReconnecting, () => this.showBanner(true));
    r.on(RoomEvent.Reconnected, () => {
      this.showBanner(false);
      toast(t('reconnected'));
      q();
    });
    r.on(RoomEvent.ParticipantPermissionsChanged, () => void this.publishIfAllowed());
    r.on(RoomEvent.Disconnected, (reason?: DisconnectReason) => void this.lost(reason));
    r.on(RoomEvent.ConnectionStateChanged, (s: ConnectionState) => {
      if (s === ConnectionState.Connected) this.showBanner(false);
    });
  }

  private selfMuting = false;

  private showBanner(on: boolean): void {
    // counted, so that a test (and a support person) can tell a reconnect happened
    if (on && this.banner.classList.contains('hidden')) this.el.dataset.reconnects = String(Number(this.el.dataset.reconnects ?? 0) + 1);
    this.banner.classList.toggle('hidden', !on);
    this.el.classList.toggle('is-reconnecting', on);
  }

  async start(): Promise<void> {
    this.timer = window.setInterval(() => this.tick(), 250);
    await this.room.connect(this.opts.url, this.opts.token, { autoSubscribe: true });
    (window as unknown as Record<string, unknown>).__yzRoom = this.room;
    this.queueRefresh();
    await this.publishIfAllowed();
  }

  private published = false;
  private publishing = false;

  private async publishIfAllowed(): Promise<void> {
    if (this.published || this.publishing || this.opts.publish === false) return;
    const lp = this.room.localParticipant;
    if (lp.permissions && lp.permissions.canPublish === false) return;
    this.publishing = true;
    try {
      const given = this.opts.tracks ?? [];
      for (const tr of given) {
        if (this.audioOnly && tr.kind === Track.Kind.Video) continue;
        await lp.publishTrack(tr, tr.kind === Track.Kind.Video ? { simulcast: true } : {});
      }
      // whatever the device check did not hand over, start here
      if (!given.some((tr) => tr.kind === Track.Kind.Audio)) {
        await lp.setMicrophoneEnabled(true, this.opts.audioDeviceId ? { deviceId: this.opts.audioDeviceId } : undefined);
      }
      if (!this.audioOnly && !given.some((tr) => tr.kind === Track.Kind.Video)) {
        // no camera is no reason to stay silent: the microphone is already on
        await lp.setCameraEnabled(true, this.opts.videoDeviceId ? { deviceId: this.opts.videoDeviceId } : undefined).catch((e: Error) => {
          toast(t('publish_failed', { msg: e.message }), 'error');
        });
      }
      this.published = true;
    } catch (e) {
      toast(t('publish_failed', { msg: (e as Error).message }), 'error');
    } finally {
      this.publishing = false;
      this.queueRefresh();
    }
  }

  private async toggleMic(): Promise<void> {
    const lp = this.room.localParticipant;
    if (!lp.isMicrophoneEnabled && (lp.attributes['mute_locked'] ?? '').split(',').includes('microphone')) {
      toast(t('mute_locked')); // the server would refuse the unmute: say why instead
      return;
    }
    this.selfMuting = true;
    try {
      await lp.setMicrophoneEnabled(!lp.isMicrophoneEnabled);
    } catch (e) {
      toast(t('publish_failed', { msg: (e as Error).message }), 'error');
    } finally {
      this.selfMuting = false;
    }
    this.queueRefresh();
  }

  private async toggleCam(): Promise<void> {
    const lp = this.room.localParticipant;
    try {
      const on = !lp.isCameraEnabled;
      if (on && this.audioOnly) await this.setAudioOnly(false);
      else await lp.setCameraEnabled(on, this.opts.videoDeviceId ? { deviceId: this.opts.videoDeviceId } : undefined);
    } catch (e) {
      toast(t('publish_failed', { msg: (e as Error).message }), 'error');
    }
    this.queueRefresh();
  }

  private async toggleAudioOnly(): Promise<void> {
    await this.setAudioOnly(!this.audioOnly);
  }

  /** Audio only: stop my camera and stop receiving video (saves a weak connection). */
  async setAudioOnly(on: boolean): Promise<void> {
    this.audioOnly = on;
    const lp = this.room.localParticipant;
    try {
      await lp.setCameraEnabled(!on, !on && this.opts.videoDeviceId ? { deviceId: this.opts.videoDeviceId } : undefined);
    } catch (e) {
      toast(t('publish_failed', { msg: (e as Error).message }), 'error');
    }
    for (const p of this.room.remoteParticipants.values()) {
      for (const pub of p.videoTrackPublications.values()) pub.setSubscribed(!on);
    }
    this.queueRefresh();
  }

  private leaving = false;

  /** The room disconnected: end, or (when we may) come back with a fresh token. */
  private async lost(reason?: DisconnectReason): Promise<void> {
    if (this.leaving || this.ended || !this.opts.rejoin || (reason !== undefined && FINAL.has(reason))) {
      this.finish(reason);
      return;
    }
    this.showBanner(true);
    this.el.dataset.rejoins = String(Number(this.el.dataset.rejoins ?? 0) + 1);
    console.info('yizhan: connection lost (reason ' + String(reason) + '), joining again with a fresh token');
    this.opts.tracks = []; // stopped with the old connection; capture anew
    this.published = false;
    for (let i = 1; i <= 5 && !this.leaving; i++) {
      await new Promise((res) => setTimeout(res, 1000 * i));
      try {
        const { url, token } = await this.opts.rejoin();
        await this.room.connect(url, token, { autoSubscribe: true });
        this.showBanner(false);
        toast(t('reconnected'));
        this.queueRefresh();
        await this.publishIfAllowed();
        return;
      } catch {
        /* try again */
      }
    }
    this.finish(reason);
  }

  async leave(ask = false): Promise<void> {
    if (ask && this.opts.confirmLeave && !confirm(t('leave_confirm'))) return;
    this.leaving = true;
    await this.room.disconnect(true);
    this.finish(DisconnectReason.CLIENT_INITIATED);
  }

  private finish(reason?: DisconnectReason): void {
    if (this.ended) return;
    this.ended = true;
    this.offLang();
    clearInterval(this.timer);
    for (const m of this.meters.values()) m.close();
    this.meters.clear();
    for (const tile of this.tiles.values()) tile.track?.detach(tile.video);
    this.opts.tracks?.forEach((tr) => tr.stop());
    this.opts.onEnd?.(reason);
  }

  get inLobby(): boolean {
    return inLobby(this.room.localParticipant);
  }

  private tick(): void {
    // smooth the remote audio levels; mark speakers
    const byIdentity = new Map<string, number>();
    for (const p of this.room.remoteParticipants.values()) {
      for (const pub of p.audioTrackPublications.values()) {
        const m = pub.trackSid ? this.meters.get(pub.track?.sid ?? pub.trackSid) : undefined;
        if (m && !pub.isMuted) byIdentity.set(p.identity, Math.max(byIdentity.get(p.identity) ?? 0, m.level()));
      }
    }
    for (const [id, tile] of this.tiles) {
      const p = this.participant(id);
      const prev = this.levels.get(id) ?? 0;
      const cur = byIdentity.get(id) ?? 0;
      const lv = Math.max(cur, prev * 0.8);
      this.levels.set(id, lv);
      const speaking = !!p && (p.isSpeaking || lv > 0.45);
      tile.el.classList.toggle('speaking', speaking);
    }
    if (this.lobbySince) setT(this.lobbyTime, 'lobby_elapsed', { t: elapsed(Date.now() - this.lobbySince) });
  }

  private participant(identity: string): Participant | undefined {
    if (identity === this.room.localParticipant.identity) return this.room.localParticipant;
    return this.room.remoteParticipants.get(identity);
  }

  queueRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      if (!this.ended) this.refresh();
    });
  }

  refresh(): void {
    const r = this.room;
    const me = r.localParticipant;
    const meta = roomMeta(r);
    const lobby = inLobby(me);
    const mySpace = spaceOf(me);
    if (lobby && !this.lobbySince) this.lobbySince = Date.now();
    if (!lobby) this.lobbySince = 0;
    this.lobby.classList.toggle('hidden', !lobby);
    this.grid.classList.toggle('hidden', lobby);
    this.el.classList.toggle('in-lobby', lobby);
    this.el.dataset.space = lobby ? 'lobby' : mySpace || 'joint';

    const remotes = [...r.remoteParticipants.values()].filter((p) => !inLobby(p));
    const here = lobby ? [] : remotes.filter((p) => spaceOf(p) === mySpace);
    const away = lobby ? [] : remotes.filter((p) => spaceOf(p) !== mySpace);
    const members: Participant[] = lobby ? [] : [me, ...here];

    // where am I, who hears me
    const joint = isJointSpace(mySpace);
    if (lobby) {
      setT(this.where, 'where_lobby');
      setT(this.hears, 'hears_nobody');
    } else if (mySpace === 'lecture') {
      // a lecture's stage (issue 15): the hidden audience sees and hears whoever is on it
      setT(this.where, 'where_caucus', { space: t('space_lecture') });
      setT(this.hears, 'lec_hears_audience');
    } else if (joint) {
      setT(this.where, 'where_joint');
      if (here.length) setT(this.hears, 'hears_you', { names: joinNames(here.map(displayName)) });
      else setT(this.hears, 'hears_nobody');
    } else {
      const label = spaceLabel(mySpace, here.map(displayName));
      setT(this.where, 'where_caucus', { space: label });
      if (here.length) setT(this.hears, 'hears_you', { names: joinNames(here.map(displayName)) });
      else setT(this.hears, 'hears_nobody');
    }
    this.el.classList.toggle('in-caucus', !lobby && !joint && mySpace !== 'lecture');

    // others in a private meeting elsewhere
    const groups = new Map<string, Participant[]>();
    for (const p of away) {
      const s = spaceOf(p);
      if (!groups.has(s)) groups.set(s, []);
      groups.get(s)!.push(p);
    }
    this.elsewhere.replaceChildren(
      ...[...groups.entries()].map(([space, ps]) => {
        const names = joinNames(ps.map((p) => (getLang() === 'zh' ? `${displayName(p)}（${roleLabel(p, meta.kind) || t('role_guest')}）` : `${displayName(p)} (${roleLabel(p, meta.kind) || t('role_guest')})`)));
        // I am in a caucus and they wait in the joint space: say so, not "private meeting"
        const theyJoint = isJointSpace(space) && !joint;
        return h(
          'div',
          { class: 'private-notice' + (theyJoint ? ' joint-others' : ''), role: 'status', dataset: { space } },
          icon(theyJoint ? 'users' : 'lock'),
          h(
            'div',
            null,
            h('strong', null, T(theyJoint ? 'in_joint_waiting' : 'private_meeting', { who: names })),
            h('div', { class: 'muted small' }, T(theyJoint ? 'in_joint_waiting_body' : 'private_meeting_wait')),
          ),
        );
      }),
    );

    // recording
    const recOn = !lobby && isRecording(meta, mySpace);
    this.rec.classList.toggle('hidden', !recOn);
    this.el.classList.toggle('recording', recOn);
    setT(this.count, 'participants_n', { n: members.length || 1 });

    // tiles
    const keep = new Set(members.map((p) => p.identity));
    for (const [id, tile] of this.tiles) {
      if (!keep.has(id)) {
        tile.track?.detach(tile.video);
        tile.el.remove();
        this.tiles.delete(id);
      }
    }
    for (const p of members) this.updateTile(p);
    this.grid.dataset.n = String(members.length);
    this.grid.classList.toggle('alone', members.length <= 1);

    // controls: someone who may not publish (an observer) gets no mic or camera button
    const canPublish = me.permissions?.canPublish !== false && this.opts.publish !== false;
    for (const b of [this.micBtn, this.camBtn]) b.classList.toggle('hidden', !canPublish);
    const micOn = me.isMicrophoneEnabled;
    const camOn = me.isCameraEnabled;
    this.setCtl(this.micBtn, micOn ? 'mic' : 'micOff', micOn ? 'mute' : 'unmute', !micOn);
    this.setCtl(this.camBtn, camOn ? 'cam' : 'camOff', camOn ? 'camera_off' : 'camera_on', !camOn);
    this.setCtl(this.aoBtn, 'headphones', this.audioOnly ? 'audio_only_off' : 'audio_only', this.audioOnly);
    this.soundBtn.classList.toggle('hidden', r.canPlaybackAudio);

    // my link: a weak one gets the banner (and tests read data-quality)
    const myQ = me.connectionQuality;
    this.el.dataset.quality = myQ;
    this.weak.classList.toggle('hidden', lobby || !(myQ === ConnectionQuality.Poor || myQ === ConnectionQuality.Lost));

    const state = `${lobby ? 'lobby' : 'space:' + (mySpace || 'joint')}`;
    if (lobby && this.lastState.startsWith('space:')) toast(t('lobby_sent_back'));
    this.lastState = state;
    this.el.dataset.state = state;
    this.opts.onChange?.(this);
  }

  private updateTile(p: Participant): void {
    const local = p === this.room.localParticipant;
    let tile = this.tiles.get(p.identity);
    if (!tile) {
      const video = h('video', { class: 'tile-video', autoplay: true, playsInline: true, muted: true });
      video.muted = true;
      const avatar = h('div', { class: 'avatar' });
      const name = h('span', { class: 'tile-name' });
      const role = h('span', { class: 'tile-role' });
      const mic = h('span', { class: 'tile-mic' });
      const quality = h('span', { class: 'tile-q' });
      const el = h(
        'div',
        { class: 'tile' + (local ? ' local' : ''), dataset: { identity: p.identity } },
        video,
        avatar,
        h('div', { class: 'tile-paused' }, icon('wifi'), T('video_paused_weak')),
        h('div', { class: 'tile-label' }, quality, mic, name, role),
      );
      tile = { el, video, avatar, name, role, mic, quality };
      this.tiles.set(p.identity, tile);
      // local tile first, the rest in join order
      if (local) this.grid.prepend(el);
      else this.grid.appendChild(el);
    }
    const nm = displayName(p) + (local ? t('you_suffix') : '');
    tile.name.textContent = nm;
    tile.role.textContent = roleLabel(p, roomMeta(this.room).kind);
    tile.role.classList.toggle('hidden', !tile.role.textContent);
    tile.avatar.textContent = (displayName(p) || '?').slice(0, 1).toUpperCase();
    tile.el.dataset.role = attr(p, 'role');

    const camPub = p.getTrackPublication(Track.Source.Camera);
    let vt = camPub && !camPub.isMuted ? (camPub.track as VideoTrack | undefined) : undefined;
    if (!local && this.audioOnly) vt = undefined;
    if (tile.track !== vt) {
      tile.track?.detach(tile.video);
      tile.track = vt;
      if (vt) vt.attach(tile.video);
    }
    tile.el.classList.toggle('has-video', !!vt);
    tile.el.classList.toggle('mirror', local);
    const micPub = p.getTrackPublication(Track.Source.Microphone);
    const micOn = !!micPub && !micPub.isMuted;
    tile.mic.replaceChildren(icon(micOn ? 'mic' : 'micOff'));
    tile.mic.classList.toggle('off', !micOn);
    tile.mic.title = micOn ? '' : t('muted');

    // connection quality, and video the server paused because this link is too weak for it
    const qv = p.connectionQuality;
    tile.el.dataset.quality = qv;
    tile.quality.className = 'tile-q q-' + qv;
    tile.quality.replaceChildren(icon('wifi'));
    tile.quality.title = t(('quality_' + qv) as Parameters<typeof t>[0]);
    const paused = !local && !!camPub && !camPub.isMuted && (camPub.track as RemoteTrack | undefined)?.streamState === Track.StreamState.Paused;
    tile.el.classList.toggle('video-paused', paused);
  }
}
