// The case file of one session: every recorded track played side by side on one timeline,
// the event log beside it (click an event to seek), the verification result, download and
// export.
import { caseFileKind, eventText } from '../events';
import { get, post, type Session } from '../api';
import { h, T, elapsed, fmtTime, mount, toast } from '../dom';
import { t, tv } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';

interface FileEntry {
  path: string; kind: string; restricted?: boolean; size: number; sha256: string; sm3?: string;
  identity?: string; participant?: string; start_offset_ms: number; duration_ms?: number; status?: string; error?: string;
}
interface Manifest {
  case?: string; session?: string; title?: string; opened_at: string; sealed_at?: string; interrupted?: boolean; interruption?: string;
  participants?: { identity: string; name?: string; role?: string; side?: string }[];
  consents?: { identity: string; given?: boolean; scope?: string; time?: string }[];
  files: FileEntry[]; events?: { count: number; last_hash: string; sha256: string }; signing?: { key_id: string };
}
interface LogEvent { seq: number; time: string; kind: string; actor?: string; subject?: string; detail?: Record<string, string> }
interface ListedFile { path: string; size: number; restricted?: boolean; sealed?: boolean }
interface CaseFile { manifest?: Manifest | null; events?: LogEvent[]; sealed?: boolean; files?: ListedFile[] }
// recording.Report as JSON (Go field names) plus "ok"; lower-case names accepted too.
interface VerifyResult {
  ok: boolean;
  checked?: string[]; problems?: string[]; key_ids?: string[];
  Checked?: string[]; Problems?: string[]; KeyIDs?: string[]; KeyPinned?: boolean;
}

export async function caseFilePage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  const s = await get<Session>(`/api/sessions/${id}`);
  let cf: CaseFile;
  try {
    cf = await get<CaseFile>(`/api/sessions/${id}/casefile`);
  } catch (e) {
    mount(ctx.content, h('h1', null, icon('folder'), T('cf_title'), ' · ', s.title), h('div', { class: 'card' }, h('p', { class: 'muted' }, T('cf_none')), h('p', { class: 'muted small' }, (e as Error).message)));
    return;
  }
  const m = cf.manifest ?? undefined;
  const events = cf.events ?? [];
  const base = `/api/sessions/${id}/casefile/files/`;
  const t0 = m ? new Date(m.opened_at).getTime() : events.length ? new Date(events[0].time).getTime() : Date.now();
  const names = new Map((m?.participants ?? []).map((p) => [p.identity, p.name || p.identity]));

  // ---- players on one clock ----
  // sealed: the manifest places every file on the timeline; still open: the listed files,
  // placed by their track_started events
  const listed: FileEntry[] = (cf.files ?? [])
    .filter((f) => f.path.endsWith('.webm'))
    .map((f) => {
      const fname = f.path.split('/').pop() ?? f.path;
      const started = events.find((e) => e.kind === 'track_started' && e.detail?.file && f.path.endsWith(e.detail.file));
      return {
        path: f.path,
        kind: fname.startsWith('audio-') ? 'audio' : 'video',
        restricted: f.restricted,
        size: f.size,
        sha256: '',
        identity: started?.subject ?? fname.replace(/^(audio|video)-/, '').replace(/-TR_.*$/, ''),
        start_offset_ms: started ? new Date(started.time).getTime() - t0 : 0,
      };
    });
  const files = (m?.files?.length ? m.files : listed).filter((f) => f.kind === 'video' || f.kind === 'audio');
  const total = Math.max(
    1000,
    ...files.map((f) => f.start_offset_ms + (f.duration_ms ?? 0)),
    ...events.map((e) => new Date(e.time).getTime() - t0),
  );
  type Player = { f: FileEntry; el: HTMLMediaElement };
  const players: Player[] = files.map((f) => {
    const el = f.kind === 'video' ? h('video', { preload: 'auto', playsInline: true, src: base + f.path }) : h('audio', { preload: 'auto', src: base + f.path });
    return { f, el };
  });
  let pos = 0; // ms on the session timeline
  let playing = false;
  let lastTick = 0;
  const scrub = h('input', { type: 'range', class: 'scrub', min: '0', max: String(total), value: '0', step: '100' });
  const clock = h('span', { class: 'mono clock' }, '00:00');
  const playBtn = h('button', { class: 'btn small', 'data-action': 'play' }, icon('play'), T('cf_play'));

  const sync = (hard: boolean) => {
    for (const p of players) {
      const local = (pos - p.f.start_offset_ms) / 1000;
      const inRange = local >= 0 && (!p.f.duration_ms || local <= p.f.duration_ms / 1000);
      p.el.closest('figure')?.classList.toggle('idle', !inRange);
      if (!inRange) {
        if (!p.el.paused) p.el.pause();
        continue;
      }
      if (hard || Math.abs(p.el.currentTime - local) > 0.3) p.el.currentTime = local;
      if (playing && p.el.paused) void p.el.play().catch(() => undefined);
      if (!playing && !p.el.paused) p.el.pause();
    }
    scrub.value = String(pos);
    clock.textContent = `${elapsed(pos)} / ${elapsed(total)}`;
    evList.querySelectorAll<HTMLElement>('li').forEach((li) => li.classList.toggle('cur', Math.abs(Number(li.dataset.at) - pos) < 1500));
  };
  const seek = (ms: number) => {
    pos = Math.max(0, Math.min(total, ms));
    sync(true);
  };
  const loop = (now: number) => {
    if (!playing) return;
    pos += now - lastTick;
    lastTick = now;
    if (pos >= total) {
      pos = total;
      playing = false;
      playBtn.replaceChildren(icon('play'), T('cf_play'));
    }
    sync(false);
    requestAnimationFrame(loop);
  };
  playBtn.addEventListener('click', () => {
    playing = !playing;
    playBtn.replaceChildren(icon(playing ? 'pause' : 'play'), T(playing ? 'cf_pause' : 'cf_play'));
    lastTick = performance.now();
    sync(true);
    if (playing) requestAnimationFrame(loop);
  });
  scrub.addEventListener('input', () => seek(Number(scrub.value)));

  // ---- event log ----
  const evList = h(
    'ul',
    { class: 'timeline cf-log' },
    ...events.map((e) => {
      const at = new Date(e.time).getTime() - t0;
      const who = e.subject ? names.get(e.subject) ?? e.subject : '';
      // our words for what we know; the recorder's own records as they are
      const detail = eventText({ kind: caseFileKind(e.kind), fields: e.detail }) || (e.detail ? Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(' ') : '');
      return h(
        'li',
        { class: 'click', dataset: { at: String(at), kind: e.kind }, onclick: () => seek(at) },
        h('div', { class: 'muted small' }, elapsed(at), ' · ', fmtTime(e.time), ' · #', String(e.seq)),
        h('div', null, h('strong', null, tv('ev', e.kind)), who ? ' ' + who : '', e.actor ? h('span', { class: 'muted small' }, ' (', e.actor, ')') : null),
        detail ? h('div', { class: 'muted small mono' }, detail) : null,
      );
    }),
  );

  // ---- verification ----
  const verifyBox = h('div', { class: 'verify' });
  const verify = async () => {
    mount(verifyBox, h('p', { class: 'muted' }, T('loading')));
    try {
      const raw = await post<VerifyResult>(`/api/sessions/${id}/casefile/verify`, {});
      const r = {
        ok: raw.ok,
        checked: raw.checked ?? raw.Checked ?? [],
        problems: raw.problems ?? raw.Problems ?? [],
        key_ids: raw.key_ids ?? raw.KeyIDs ?? [],
      };
      mount(
        verifyBox,
        h('div', { class: 'check-line ' + (r.ok ? 'ok' : 'bad'), dataset: { verified: String(r.ok) } }, icon(r.ok ? 'check' : 'alert'), T(r.ok ? 'cf_verify_ok' : 'cf_verify_bad')),
        r.problems?.length ? h('ul', { class: 'small' }, ...r.problems.map((p) => h('li', { class: 'check-line bad' }, p))) : null,
        r.checked?.length ? h('details', null, h('summary', { class: 'small' }, `${r.checked.length} ✓`), h('ul', { class: 'small mono' }, ...r.checked.map((c) => h('li', null, c)))) : null,
        r.key_ids?.length ? h('div', { class: 'small muted' }, T('cf_signature'), ': ', r.key_ids.join(', ')) : null,
      );
    } catch (e) {
      mount(verifyBox, h('div', { class: 'check-line bad' }, icon('alert'), (e as Error).message));
    }
  };

  mount(
    ctx.content,
    h('h1', null, icon('folder'), T('cf_title'), ' · ', s.title, cf.sealed ? h('span', { class: 'chip ok' }, T('cf_sealed')) : null),
    h('p', null, h('a', { class: 'casefile-case-link', href: `/console/cases/${s.case_id}` }, `${s.case_number ?? ''} ${s.case_title ?? ''}`)),
    m?.interrupted ? h('div', { class: 'health-bad' }, icon('alert'), m.interruption ?? '') : null,
    h(
      'div',
      { class: 'cf-layout' },
      h(
        'div',
        null,
        h('div', { class: 'card' }, h('h3', null, T('cf_recordings')),
          players.length
            ? h('div', { class: 'players' }, ...players.filter((p) => p.f.kind === 'video').map((p) => h('figure', null, p.el, h('figcaption', null, names.get(p.f.identity ?? '') ?? p.f.participant ?? p.f.identity ?? p.f.path, p.f.restricted ? ' 🔒' : ''))))
            : h('p', { class: 'muted' }, T('cf_none')),
          h('div', { class: 'hidden' }, ...players.filter((p) => p.f.kind === 'audio').map((p) => p.el)),
          h('div', { class: 'row', style: { marginTop: '.6rem' } }, playBtn, clock),
          scrub,
        ),
        h(
          'div',
          { class: 'card' },
          h('h3', null, T('cf_verify'), h('button', { class: 'btn small', 'data-action': 'verify', onclick: () => void verify() }, T('cf_verify_run'))),
          verifyBox,
          h('h3', { style: { marginTop: '1rem' } }, T('cf_hashes')),
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'list small' },
              h('tbody', null, ...(m?.files?.length ? m.files : listed).map((f) => h('tr', null, h('td', null, f.path, f.status && f.status !== 'complete' ? h('span', { class: 'chip bad' }, f.status) : null), h('td', { class: 'mono' }, f.sha256 ? f.sha256.slice(0, 16) + '…' : ''), h('td', null, h('a', { class: 'btn small', href: base + f.path + '?download=1', download: '' }, icon('download')))))),
            ),
          ),
          h(
            'div',
            { class: 'actions' },
            h('a', { class: 'btn', href: `/api/sessions/${id}/casefile/export`, download: '' }, icon('download'), T('cf_export')),
            h('a', { class: 'btn ghost', href: '/api/signing-key', download: 'yizhan-signing-key.pem' }, icon('shield'), T('cf_key')),
          ),
        ),
      ),
      h('div', { class: 'card cf-events' }, h('h3', null, T('cf_events'), h('span', { class: 'muted small' }, String(events.length))), evList),
    ),
  );
  sync(true);
  await verify();
  ctx.onLeave(() => players.forEach((p) => p.el.pause()));
  if (!players.length && !events.length) toast(t('cf_none'));
}
