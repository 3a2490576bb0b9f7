// One session: invitations (link, QR), and for a live session the host's controls: the
// lobby with wait times, the spaces and moves between them, mute/remove, recording with
// consents and recorder health, pulling in staff, ending; for a reception the queue,
// "admit next" and the outcome form. Each panel is its own file (session_*.ts); this one
// fetches, polls and lays them out.
import { get, post, type Case, type Join, type Live, type Session } from '../api';
import { Call } from '../call';
import { h, T, fmtTime, mount, toast } from '../dom';
import { t, tv } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { docsSection } from './documents';
import { drawInvitations } from './session_invitations';
import { lobbyPanel } from './session_lobby';
import { currentPanel, outcomeForm } from './session_outcome';
import { act, waited, type SessionPage } from './session_page';
import { pullIn } from './session_pullin';
import { recordingPanel } from './session_recording';
import { spacesPanel } from './session_spaces';
import { riskChip, stateChip } from './ui';

export async function sessionPage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  const s = await get<Session>(`/api/sessions/${id}`);
  const c = await get<Case>(`/api/cases/${s.case_id}`).catch(() => undefined);
  const pg: SessionPage = {
    ctx,
    id,
    s,
    c,
    isHost: (s.hosts ?? []).includes(ctx.me.username) || ctx.me.roles.includes('admin'),
    myIdentity: 'staff-' + ctx.me.username,
    live: undefined,
    fetchedAt: 0,
    call: undefined,
    refreshLive: async () => undefined,
  };
  const reloadSession = async () => {
    pg.s = await get<Session>(`/api/sessions/${id}`);
    drawHead();
  };

  const head = h('div');
  const drawHead = () => {
    const s = pg.s;
    mount(
      head,
      h('h1', null, s.title, stateChip(s.state), h('span', { class: 'chip' }, tv('sess_kind', s.kind))),
      h(
        'p',
        { class: 'muted' },
        c ? h('a', { href: `/console/cases/${c.id}` }, `${c.number} ${c.title}`) : `${s.case_number ?? ''} ${s.case_title ?? ''}`,
        c ? [' ', riskChip(c.risk)] : null,
        s.scheduled_at ? [' · ', fmtTime(s.scheduled_at)] : null,
        ' · ',
        T('sess_caucus_policy'),
        '：',
        T(s.caucus_policy === 'sealed' ? 'sess_caucus_sealed' : 'sess_caucus_none'),
      ),
    );
  };
  drawHead();

  const invBox = h('div', { class: 'card invitations' });
  const liveBox = h('div', { class: 'live-box' });
  mount(ctx.content, head, liveBox, invBox, docsSection(ctx, s.case_id, s.id)); // documents.ts (issue 10)
  await drawInvitations(pg, invBox);

  // ---- live ----
  const panels = h('div', { class: 'live-panels' });
  const callBox = h('div', { class: 'live-call' });

  let drawn = '';
  pg.refreshLive = async () => {
    let next: Live | undefined;
    try {
      next = await get<Live>(`/api/sessions/${id}/live`);
    } catch {
      next = undefined;
    }
    // redraw only on a change: a button must not vanish under the pointer every poll
    // (wait times tick here; of the link figures only the quality is shown)
    const sig = JSON.stringify(next ?? null, (k, v) => (k === 'waiting_seconds' ? undefined : k === 'link' ? (v?.quality ?? '') : v)) + (pg.call ? '1' : '0');
    if (next) {
      const keepTimes = pg.live && sig === drawn;
      if (!keepTimes) pg.fetchedAt = Date.now();
      if (!keepTimes) pg.live = next;
    } else pg.live = undefined;
    if (sig === drawn) return;
    drawn = sig;
    if (pressing) redrawAfterPress = true;
    else drawPanels();
  };
  // never swap the buttons between a press and its release: the click would be lost
  let pressing = false;
  let redrawAfterPress = false;
  panels.addEventListener('pointerdown', () => (pressing = true));
  const released = () => {
    if (!pressing) return;
    pressing = false;
    if (redrawAfterPress) {
      redrawAfterPress = false;
      setTimeout(drawPanels, 0); // after the click event of this release
    }
  };
  window.addEventListener('pointerup', released);
  window.addEventListener('pointercancel', released);
  ctx.onLeave(() => {
    window.removeEventListener('pointerup', released);
    window.removeEventListener('pointercancel', released);
  });

  // the same outcome form element across redraws: what the leader typed must survive
  // live updates
  const outcomeForms = new Map<string, HTMLFormElement>();

  const drawPanels = () => {
    const L = pg.live;
    if (!L) {
      mount(panels, h('div', { class: 'panel' }, h('p', { class: 'muted' }, T('loading'))));
      return;
    }
    const reception = pg.s.kind === 'reception';
    const current = reception ? (L.spaces.joint ?? []).filter((p) => !p.host && (p.role === 'party' || p.role === 'petitioner')) : [];
    let outcomePanel: HTMLFormElement | null = null;
    if (current.length && pg.isHost) {
      const who = current[0].identity;
      outcomePanel = outcomeForms.get(who) ?? outcomeForm(pg, current[0]);
      outcomeForms.set(who, outcomePanel);
    }
    for (const k of [...outcomeForms.keys()]) if (!current.some((p) => p.identity === k)) outcomeForms.delete(k);
    mount(
      panels,
      reception && current.length ? currentPanel(current) : null,
      outcomePanel,
      lobbyPanel(pg, L, reception),
      reception ? null : spacesPanel(pg, L, reception),
      recordingPanel(pg, L),
      pg.isHost ? toolsPanel() : null,
    );
  };

  // staff directory, end
  const toolsPanel = () =>
    h(
      'div',
      { class: 'panel tools' },
      h(
        'div',
        { class: 'row' },
        h('button', { class: 'btn small', 'data-action': 'pull-in', onclick: () => pullIn(pg) }, icon('users'), T('live_pull_in')),
        h(
          'button',
          {
            class: 'btn small danger',
            'data-action': 'end-session',
            onclick: async () => {
              if (!confirm(t('end_session_confirm'))) return;
              await act(pg, 'end', {});
              await reloadSession();
              await pg.call?.leave();
            },
          },
          T('end_session'),
        ),
      ),
    );

  const joinAV = async () => {
    try {
      const j = await post<Join>(`/api/sessions/${id}/join`, {});
      pg.call = new Call({
        url: j.url,
        token: j.token,
        onEnd: () => {
          pg.call = undefined;
          drawLive();
        },
        rejoin: async () => {
          const again = await post<Join>(`/api/sessions/${id}/join`, {});
          return { url: again.url, token: again.token };
        },
      });
      mount(callBox, pg.call.el);
      await pg.call.start();
      await reloadSession();
      await pg.refreshLive();
    } catch (e) {
      toast(t('connect_failed', { msg: (e as Error).message }), 'error');
      pg.call = undefined;
      drawLive();
    }
  };

  const drawLive = () => {
    if (pg.s.state === 'ended') {
      mount(liveBox, h('div', { class: 'card' }, h('a', { class: 'btn', href: `/console/sessions/${id}/file` }, icon('folder'), T('case_file'))));
      return;
    }
    if (!pg.call) {
      mount(
        callBox,
        h(
          'div',
          { class: 'card center join-card' },
          h('div', { class: 'hero-icon' }, icon('cam')),
          h('button', { class: 'btn primary', 'data-action': 'join-av', onclick: () => void joinAV() }, icon('cam'), T(pg.s.state === 'live' ? 'enter_session' : 'start_session')),
        ),
      );
    }
    mount(liveBox, h('div', { class: 'live-layout' }, callBox, panels));
  };
  drawLive();
  await pg.refreshLive();

  const timer = window.setInterval(() => {
    // tick the wait times; re-poll every few seconds as a fallback for missed events
    panels.querySelectorAll<HTMLElement>('.wait').forEach((el) => {
      const p = pg.live?.lobby.find((x) => x.identity === el.dataset.identity);
      if (p) el.textContent = t('live_waited', { t: waited(pg, p) });
    });
  }, 1000);
  const poll = window.setInterval(() => {
    if (pg.s.state !== 'ended') void pg.refreshLive();
  }, 5000);
  const onLive = (d: Record<string, unknown>) => {
    if (String(d.session_id) === id) void pg.refreshLive();
  };
  ctx.on('live', onLive);
  ctx.on('knock', onLive);
  ctx.on('recording', onLive);
  ctx.on('session', async (d) => {
    if (String(d.session_id) !== id) return;
    await reloadSession();
    if (pg.s.state === 'ended') drawLive();
  });
  // a language switch redraws in place: the call goes on
  ctx.onLang(() => {
    drawHead();
    void drawInvitations(pg, invBox);
    drawn = '';
    void pg.refreshLive();
  });
  ctx.onLeave(() => {
    clearInterval(timer);
    clearInterval(poll);
    void pg.call?.leave();
  });
}
