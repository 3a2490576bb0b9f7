// One session: invitations (link, QR), and for a live session the host's controls: the
// lobby with wait times, the spaces and moves between them, mute/remove, recording with
// consents and recorder health, pulling in staff, ending; for a reception the queue,
// "admit next" and the outcome form.
import { del, get, post, type Case, type Invitation, type Join, type Live, type LiveParticipant, type Session, type Staff } from '../api';
import { docsSection } from './documents';
import { Call } from '../call';
import { h, T, fmtTime, mount, toast } from '../dom';
import { t, tv, joinNames } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { CATEGORIES, INVITE_ROLES, RISKS, copyText, emptyRow, field, modal, riskChip, roleText, showQR, stateChip, valueSelect, waitText } from './ui';

export async function sessionPage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  let s = await get<Session>(`/api/sessions/${id}`);
  const c = await get<Case>(`/api/cases/${s.case_id}`).catch(() => undefined);
  const isHost = (s.hosts ?? []).includes(ctx.me.username) || ctx.me.roles.includes('admin');
  const myIdentity = 'staff-' + ctx.me.username;

  const head = h('div');
  const drawHead = () =>
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
  drawHead();

  const invBox = h('div', { class: 'card invitations' });
  const liveBox = h('div', { class: 'live-box' });
  mount(ctx.content, head, liveBox, invBox, docsSection(ctx, s.case_id, s.id)); // documents.ts (issue 10)

  // ---- invitations ----
  const drawInvitations = async () => {
    if (!isHost) {
      invBox.classList.add('hidden');
      return;
    }
    const { invitations } = await get<{ invitations: Invitation[] }>(`/api/sessions/${id}/invitations`).catch(() => ({ invitations: s.invitations ?? [] }));
    const rows = invitations.map((inv) =>
      h(
        'tr',
        { dataset: { code: inv.code }, class: inv.revoked ? 'muted' : '' },
        h('td', null, inv.name),
        h('td', null, roleText(inv.role, inv.side)),
        h('td', null, fmtTime(inv.expires_at)),
        h(
          'td',
          null,
          inv.revoked
            ? h('span', { class: 'chip bad' }, '×')
            : h(
                'div',
                { class: 'row' },
                h('button', { class: 'btn small', 'data-action': 'copy-link', onclick: () => void copyText(inv.url) }, icon('copy'), T('inv_copy')),
                h('button', { class: 'btn small', 'data-action': 'qr', onclick: () => showQR(inv.name, inv.url) }, icon('qr'), T('inv_qr')),
                h(
                  'button',
                  {
                    class: 'btn small ghost',
                    onclick: async () => {
                      await del(`/api/invitations/${inv.code}`).catch((e) => toast((e as Error).message, 'error'));
                      await drawInvitations();
                    },
                    tTitle: 'live_deny',
                  },
                  icon('x'),
                ),
              ),
        ),
      ),
    );
    // new invitation
    const role = valueSelect('role', 'role', s.kind === 'reception' ? ['party', ...INVITE_ROLES.filter((r) => r !== 'party')] : INVITE_ROLES, 'party');
    const name = h('input', { name: 'name', tPlaceholder: 'inv_name', style: { width: 'auto' } });
    const side = valueSelect('side', 'side', ['applicant', 'respondent'], 'applicant');
    const party = h(
      'select',
      { name: 'party' },
      h('option', { value: '' }, '—'),
      ...(c?.parties ?? []).map((p) => h('option', { value: String(p.id) }, `${p.name}（${tv('side', p.side)}）`)),
    );
    party.addEventListener('change', () => {
      const p = c?.parties.find((x) => String(x.id) === party.value);
      if (p) {
        if (!name.value) name.value = p.name;
        side.value = p.side;
      }
    });
    const create = h(
      'button',
      {
        class: 'btn primary small',
        'data-action': 'create-invitation',
        onclick: async () => {
          const body: Record<string, unknown> = { role: role.value, name: name.value.trim() };
          if (party.value) body.party = Number(party.value);
          if (['party', 'agent', 'interpreter', 'lawyer'].includes(role.value) && !party.value) body.side = side.value;
          try {
            const inv = await post<Invitation>(`/api/sessions/${id}/invitations`, body);
            await drawInvitations();
            showQR(inv.name, inv.url);
          } catch (e) {
            toast((e as Error).message, 'error');
          }
        },
      },
      icon('plus'),
      T('inv_create'),
    );
    mount(
      invBox,
      h('h3', null, T('inv_title')),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'list' },
          h('thead', null, h('tr', null, h('th', null, T('inv_name')), h('th', null, T('inv_role')), h('th', null, T('inv_expires')), h('th', null, T('inv_link')))),
          h('tbody', null, ...(rows.length ? rows : [emptyRow(4, 'inv_none')])),
        ),
      ),
      s.state !== 'ended' ? h('div', { class: 'filters', style: { marginTop: '.8rem' } }, party, role, name, side, create) : null,
    );
  };
  await drawInvitations();

  // ---- live ----
  let call: Call | undefined;
  let live: Live | undefined;
  let fetchedAt = 0;
  const panels = h('div', { class: 'live-panels' });
  const callBox = h('div', { class: 'live-call' });

  let drawn = '';
  const refreshLive = async () => {
    let next: Live | undefined;
    try {
      next = await get<Live>(`/api/sessions/${id}/live`);
    } catch {
      next = undefined;
    }
    // redraw only on a change: a button must not vanish under the pointer every poll
    const sig = JSON.stringify(next ?? null, (k, v) => (k === 'waiting_seconds' ? undefined : v)) + (call ? '1' : '0');
    if (next) {
      const keepTimes = live && sig === drawn;
      if (!keepTimes) fetchedAt = Date.now();
      if (!keepTimes) live = next;
    } else live = undefined;
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

  const act = async (path: string, body: unknown) => {
    try {
      await post(`/api/sessions/${id}/${path}`, body);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
    await refreshLive();
  };

  const waited = (p: LiveParticipant) => {
    const base = p.waiting_seconds ?? (p.joined_at ? (fetchedAt - new Date(p.joined_at).getTime()) / 1000 : 0);
    return waitText(base + (Date.now() - fetchedAt) / 1000);
  };

  const consentChip = (p: LiveParticipant) =>
    p.consent === true
      ? h('span', { class: 'chip ok' }, T('live_consent_yes'))
      : p.consent === false
        ? h('span', { class: 'chip bad' }, T('live_consent_no'))
        : h('span', { class: 'chip' }, T('live_consent_pending'));

  const spaceName = (sp: string, members: LiveParticipant[]) => {
    if (sp === 'joint') return t('space_joint');
    const m = /^caucus-(applicant|respondent)$/.exec(sp);
    if (m) return t('live_caucus_with_side', { side: tv('side', m[1]) });
    const names = members.filter((p) => !p.host).map((p) => p.name);
    return names.length ? t('space_caucus_with', { who: joinNames(names) }) : t('space_caucus');
  };

  const drawPanels = () => {
    if (!live) {
      mount(panels, h('div', { class: 'panel' }, h('p', { class: 'muted' }, T('loading'))));
      return;
    }
    const L = live;
    const reception = s.kind === 'reception';
    const spaces = Object.entries(L.spaces ?? {});
    if (!spaces.some(([k]) => k === 'joint')) spaces.unshift(['joint', []]);
    const spaceIds = spaces.map(([k]) => k);
    for (const extra of ['caucus-applicant', 'caucus-respondent']) if (!spaceIds.includes(extra)) spaceIds.push(extra);

    // lobby / queue
    const lobby = h(
      'div',
      { class: 'panel lobby' },
      h('h3', null, h('span', null, icon('door'), ' ', T(reception ? 'rec_queue' : 'live_lobby'), ` (${L.lobby.length})`), reception && isHost ? h('button', { class: 'btn primary small', 'data-action': 'admit-next', disabled: !L.lobby.length, onclick: () => void act('next', {}) }, T('rec_admit_next')) : null),
      ...(L.lobby.length
        ? L.lobby.map((p, i) =>
            h(
              'div',
              { class: reception ? 'queue-item' : 'person', dataset: { identity: p.identity } },
              h(
                'div',
                { class: 'row' },
                reception ? h('span', { class: 'q-no' }, String(i + 1)) : icon('clock'),
                h('span', { class: 'pname' }, p.name),
                h('span', { class: 'chip' }, roleText(p.role, p.side)),
                h('span', { class: 'muted small wait', dataset: { identity: p.identity } }, t('live_waited', { t: waited(p) })),
                consentChip(p),
                isHost && !reception
                  ? h(
                      'span',
                      { class: 'pbtns' },
                      h('button', { class: 'btn ok small', 'data-action': 'admit', onclick: () => void act('admit', { identity: p.identity }) }, T('live_admit')),
                      h('button', { class: 'btn small', 'data-action': 'deny', onclick: () => void act('deny', { identity: p.identity }) }, T('live_deny')),
                    )
                  : null,
              ),
              p.note ? h('div', { class: 'small' }, h('span', { class: 'muted' }, T('rec_wrote'), '：'), p.note) : null,
            ),
          )
        : [h('p', { class: 'muted small' }, T(reception ? 'rec_queue_empty' : 'live_lobby_empty'))]),
    );

    // spaces
    const personRow = (p: LiveParticipant, sp: string) => {
      const moves = isHost
        ? spaceIds.filter((x) => x !== sp).map((x) => h('button', { class: 'btn small', dataset: { action: 'move', space: x }, onclick: () => void act('move', { identity: p.identity, space: x }) }, t('live_move_to', { space: spaceName(x, L.spaces[x] ?? []) })))
        : [];
      const micOn = (p.tracks ?? []).some((tr) => tr.kind === 'audio' && !tr.muted);
      // hosts can also drag a person onto another room's box
      const canDrag = isHost && p.identity !== myIdentity;
      return h(
        'div',
        {
          class: 'person' + (canDrag ? ' draggable' : ''),
          dataset: { identity: p.identity },
          draggable: canDrag ? 'true' : undefined,
          ondragstart: canDrag ? (e: DragEvent) => e.dataTransfer?.setData('text/x-yizhan-identity', p.identity) : undefined,
        },
        icon(micOn ? 'mic' : 'micOff'),
        h('span', { class: 'pname' }, p.name, p.identity === myIdentity ? t('you_suffix') : ''),
        h('span', { class: 'chip' }, roleText(p.role, p.side)),
        p.host ? null : consentChip(p),
        isHost && p.identity !== myIdentity
          ? h(
              'span',
              { class: 'pbtns' },
              ...moves,
              h('button', { class: 'btn small', dataset: { action: 'lobby' }, onclick: () => void act('lobby', { identity: p.identity }) }, T('live_send_back')),
              micOn ? h('button', { class: 'btn small', dataset: { action: 'mute' }, onclick: () => void act('mute', { identity: p.identity }) }, T('live_mute')) : null,
              h(
                'button',
                {
                  class: 'btn small danger',
                  dataset: { action: 'remove' },
                  onclick: () => {
                    if (confirm(t('live_remove_confirm', { name: p.name }))) void act('remove', { identity: p.identity });
                  },
                },
                T('live_remove'),
              ),
            )
          : null,
      );
    };
    const caucusSide = async (side: string) => {
      const sp = 'caucus-' + side;
      const who = (L.spaces.joint ?? []).filter((p) => p.side === side && !p.host);
      for (const p of who) await post(`/api/sessions/${id}/move`, { identity: p.identity, space: sp }).catch((e) => toast((e as Error).message, 'error'));
      if (call) await post(`/api/sessions/${id}/move`, { identity: myIdentity, space: sp }).catch(() => undefined);
      await refreshLive();
    };
    const allBack = async () => {
      for (const [sp, ps] of Object.entries(L.spaces)) {
        if (sp === 'joint') continue;
        for (const p of ps) await post(`/api/sessions/${id}/move`, { identity: p.identity, space: 'joint' }).catch((e) => toast((e as Error).message, 'error'));
      }
      await refreshLive();
    };
    const spacesPanel = h(
      'div',
      { class: 'panel spaces' },
      h('h3', null, h('span', null, icon('users'), ' ', T('live_spaces'))),
      isHost && !reception
        ? h(
            'div',
            { class: 'row' },
            h('button', { class: 'btn small', 'data-action': 'caucus-applicant', onclick: () => void caucusSide('applicant') }, icon('lock'), t('live_caucus_with_side', { side: tv('side', 'applicant') })),
            h('button', { class: 'btn small', 'data-action': 'caucus-respondent', onclick: () => void caucusSide('respondent') }, icon('lock'), t('live_caucus_with_side', { side: tv('side', 'respondent') })),
            spaces.length > 1 ? h('button', { class: 'btn small', 'data-action': 'all-back', onclick: () => void allBack() }, T('live_all_back')) : null,
          )
        : null,
      ...spaces.map(([sp, ps]) =>
        h(
          'div',
          {
            class: 'space-box' + (sp === 'joint' ? '' : ' caucus'),
            dataset: { space: sp },
            ondragover: (e: DragEvent) => {
              if (isHost && e.dataTransfer?.types.includes('text/x-yizhan-identity')) {
                e.preventDefault();
                (e.currentTarget as HTMLElement).classList.add('drop');
              }
            },
            ondragleave: (e: DragEvent) => (e.currentTarget as HTMLElement).classList.remove('drop'),
            ondrop: (e: DragEvent) => {
              e.preventDefault();
              (e.currentTarget as HTMLElement).classList.remove('drop');
              const who = e.dataTransfer?.getData('text/x-yizhan-identity');
              if (who && !ps.some((p) => p.identity === who)) void act('move', { identity: who, space: sp });
            },
          },
          h('h4', null, sp === 'joint' ? icon('users') : icon('lock'), spaceName(sp, ps), h('span', { class: 'muted small' }, `(${ps.length})`)),
          ps.length > 1 ? h('div', { class: 'muted small' }, t('live_hears', { names: joinNames(ps.map((p) => p.name)) })) : null,
          ...ps.map((p) => personRow(p, sp)),
        ),
      ),
    );

    // recording: the recorder follows the session's policy and the consents (no manual
    // switch); the server's plan is shown when Live carries it, else the policy's reading.
    const everyone = Object.values(L.spaces).flat();
    const missing = everyone.filter((p) => !p.host && p.consent !== true);
    const rec = L.recording;
    const planRows: { space: string; record: boolean; reason: string }[] =
      rec?.spaces ??
      spaces
        .filter(([, ps]) => ps.length)
        .map(([sp, ps]) => {
          const miss = ps.filter((p) => !p.host && p.consent !== true).map((p) => p.name);
          const joint = sp === 'joint';
          const allowed = joint ? s.record_on_open !== false : s.caucus_policy === 'sealed';
          return {
            space: sp,
            record: allowed && miss.length === 0,
            reason: !allowed ? t(joint ? 'recording_off' : 'sess_caucus_none') : miss.length ? t('live_consent_missing', { names: joinNames(miss) }) : '',
          };
        });
    // the recorder's own word when the server gives it; else what the policy implies
    const recOn = rec ? !!rec.active : planRows.some((r) => r.record);
    const recPanel = h(
      'div',
      { class: 'panel recording' },
      h('h3', null, h('span', null, icon('rec', recOn ? 'blink' : ''), ' ', T('live_rec'), ' ', recOn ? h('span', { class: 'chip live' }, T('recording_on')) : h('span', { class: 'chip' }, T('recording_off')))),
      rec && rec.healthy === false && s.state === 'live' ? h('div', { class: 'health-bad', role: 'alert' }, icon('alert'), t('live_rec_health_bad', { msg: rec.error ?? '' })) : rec?.healthy && s.state === 'live' ? h('div', { class: 'check-line ok' }, icon('check'), T('live_rec_health_ok')) : null,
      ...planRows.map((r) =>
        h(
          'div',
          { class: 'check-line ' + (r.record ? 'ok' : 'warn'), dataset: { space: r.space, record: String(r.record) } },
          icon(r.record ? 'rec' : 'alert'),
          spaceName(r.space, L.spaces[r.space] ?? []),
          '：',
          r.record ? T('recording_on') : r.reason || T('recording_off'),
        ),
      ),
      missing.length && !planRows.length ? h('div', { class: 'check-line warn' }, icon('alert'), t('live_consent_missing', { names: joinNames(missing.map((p) => p.name)) })) : null,
      rec?.stopped ? h('div', { class: 'check-line warn', dataset: { stopped: '1' } }, icon('alert'), T('live_rec_stopped'), '：', rec.stopped) : null,
      isHost && rec && s.state === 'live'
        ? h(
            'div',
            { class: 'row' },
            rec.stopped
              ? h('button', { class: 'btn small danger', 'data-action': 'rec-start', onclick: () => void act('recording', { action: 'start' }) }, icon('rec'), T('live_rec_resume'))
              : h(
                  'button',
                  {
                    class: 'btn small',
                    'data-action': 'rec-stop',
                    onclick: () => {
                      const reason = prompt(t('live_rec_reason'));
                      if (reason !== null) void act('recording', { action: 'stop', reason });
                    },
                  },
                  icon('pause'),
                  T('live_rec_stop'),
                ),
          )
        : null,
      h('div', { class: 'muted small' }, T('sess_caucus_policy'), '：', T(s.caucus_policy === 'sealed' ? 'sess_caucus_sealed' : 'sess_caucus_none')),
    );

    // reception outcome
    const current = reception ? (L.spaces.joint ?? []).filter((p) => !p.host && (p.role === 'party' || p.role === 'petitioner')) : [];
    // the same form element across redraws: what the leader typed must survive live updates
    let outcomePanel: HTMLFormElement | null = null;
    if (current.length && isHost) {
      const who = current[0].identity;
      outcomePanel = outcomeForms.get(who) ?? outcomeForm(current[0]);
      outcomeForms.set(who, outcomePanel);
    }
    for (const k of [...outcomeForms.keys()]) if (!current.some((p) => p.identity === k)) outcomeForms.delete(k);

    // staff directory, end
    const tools = isHost
      ? h(
          'div',
          { class: 'panel tools' },
          h(
            'div',
            { class: 'row' },
            h('button', { class: 'btn small', 'data-action': 'pull-in', onclick: () => pullIn() }, icon('users'), T('live_pull_in')),
            h(
              'button',
              {
                class: 'btn small danger',
                'data-action': 'end-session',
                onclick: async () => {
                  if (!confirm(t('end_session_confirm'))) return;
                  await act('end', {});
                  s = await get<Session>(`/api/sessions/${id}`);
                  drawHead();
                  await call?.leave();
                },
              },
              T('end_session'),
            ),
          ),
        )
      : null;

    mount(panels, reception && current.length ? h('div', { class: 'panel current' }, h('h3', null, T('rec_current')), ...current.map((p) => h('div', { class: 'person' }, icon('user'), h('span', { class: 'pname' }, p.name), p.note ? h('span', { class: 'small' }, p.note) : null))) : null, outcomePanel, lobby, reception ? null : spacesPanel, recPanel, tools);
  };

  const outcomeForms = new Map<string, HTMLFormElement>();
  const outcomeForm = (p: LiveParticipant): HTMLFormElement => {
    const note = h('textarea', { name: 'outcome-note', required: true });
    const caseSel = h('select', { name: 'outcome-case' }, h('option', { value: '' }, t('rec_outcome_new_case')), c ? h('option', { value: String(c.id) }, `${c.number} ${c.title}`) : null);
    const title = h('input', { name: 'outcome-title', value: `来访：${p.name}` });
    const cat = valueSelect('outcome-category', 'cat', CATEGORIES, 'other');
    const risk = valueSelect('outcome-risk', 'grade', RISKS, 'blue');
    const unit = h('input', { name: 'outcome-unit' });
    const deadline = h('input', { name: 'outcome-deadline', type: 'date' });
    return h(
      'form',
      {
        class: 'panel outcome',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          const body: Record<string, unknown> = { identity: p.identity, note: note.value.trim() };
          if (caseSel.value) body.case = Number(caseSel.value);
          else {
            body.title = title.value.trim();
            body.category = cat.value;
            body.risk = risk.value;
          }
          if (unit.value.trim()) body.supervise = { unit: unit.value.trim(), deadline: deadline.value || undefined };
          try {
            await post(`/api/sessions/${id}/outcome`, body);
            toast(t('rec_outcome_filed'));
          } catch (e) {
            toast((e as Error).message, 'error');
          }
          await refreshLive();
        },
      },
      h('h3', null, T('rec_outcome'), h('span', { class: 'muted small' }, p.name)),
      field('rec_outcome_note', note),
      field('rec_outcome_case', caseSel),
      h('div', { class: 'two-col' }, field('case_title', title), field('case_category', cat)),
      h('div', { class: 'two-col' }, field('case_grade', risk), field('rec_outcome_unit', unit)),
      field('rec_outcome_deadline', deadline),
      h('button', { class: 'btn primary', type: 'submit', 'data-action': 'file-outcome' }, T('rec_outcome_file')),
    );
  };

  const pullIn = () => {
    const q = h('input', { type: 'search', tPlaceholder: 'search' });
    const list = h('div', { class: 'col' });
    const search = async () => {
      const { staff } = await get<{ staff: Staff[] }>('/api/staff?q=' + encodeURIComponent(q.value.trim()));
      list.replaceChildren(
        ...staff
          .filter((x) => x.username !== ctx.me.username)
          .slice(0, 30)
          .map((x) =>
            h(
              'div',
              { class: 'person' },
              h('span', { class: 'pname' }, x.name),
              x.gold ? h('span', { class: 'chip gold' }, icon('star')) : null,
              h('span', { class: 'chip' }, joinNames(x.roles.map((r) => tv('role', r)))),
              h('span', { class: 'muted small' }, `${x.centre_name ?? x.centre} · ${tv('tier', x.tier ?? '')}`),
              h(
                'span',
                { class: 'pbtns' },
                h(
                  'button',
                  {
                    class: 'btn small primary',
                    onclick: async () => {
                      try {
                        await post(`/api/sessions/${id}/invite-staff`, { username: x.username });
                        toast(t('live_invited', { name: x.name }));
                        closeDialog();
                      } catch (e) {
                        toast((e as Error).message, 'error');
                      }
                    },
                  },
                  T('live_invite'),
                ),
              ),
            ),
          ),
      );
    };
    q.addEventListener('input', () => void search());
    const closeDialog = modal(T('live_pull_in'), h('div', null, h('p', { class: 'muted small' }, T('live_pull_in_hint')), q, list));
    void search();
  };

  const joinAV = async () => {
    try {
      const j = await post<Join>(`/api/sessions/${id}/join`, {});
      call = new Call({
        url: j.url,
        token: j.token,
        onEnd: () => {
          call = undefined;
          drawLive();
        },
        rejoin: async () => {
          const again = await post<Join>(`/api/sessions/${id}/join`, {});
          return { url: again.url, token: again.token };
        },
      });
      mount(callBox, call.el);
      await call.start();
      s = await get<Session>(`/api/sessions/${id}`);
      drawHead();
      await refreshLive();
    } catch (e) {
      toast(t('connect_failed', { msg: (e as Error).message }), 'error');
      call = undefined;
      drawLive();
    }
  };

  const drawLive = () => {
    if (s.state === 'ended') {
      mount(liveBox, h('div', { class: 'card' }, h('a', { class: 'btn', href: `/console/sessions/${id}/file` }, icon('folder'), T('case_file'))));
      return;
    }
    if (!call) {
      mount(
        callBox,
        h(
          'div',
          { class: 'card center join-card' },
          h('div', { class: 'hero-icon' }, icon('cam')),
          h('button', { class: 'btn primary', 'data-action': 'join-av', onclick: () => void joinAV() }, icon('cam'), T(s.state === 'live' ? 'enter_session' : 'start_session')),
        ),
      );
    }
    mount(liveBox, h('div', { class: 'live-layout' }, callBox, panels));
  };
  drawLive();
  await refreshLive();

  const timer = window.setInterval(() => {
    // tick the wait times; re-poll every few seconds as a fallback for missed events
    panels.querySelectorAll<HTMLElement>('.wait').forEach((el) => {
      const p = live?.lobby.find((x) => x.identity === el.dataset.identity);
      if (p) el.textContent = t('live_waited', { t: waited(p) });
    });
  }, 1000);
  const poll = window.setInterval(() => {
    if (s.state !== 'ended') void refreshLive();
  }, 5000);
  const onLive = (d: Record<string, unknown>) => {
    if (String(d.session_id) === id) void refreshLive();
  };
  ctx.on('live', onLive);
  ctx.on('knock', onLive);
  ctx.on('recording', onLive);
  ctx.on('session', async (d) => {
    if (String(d.session_id) !== id) return;
    s = await get<Session>(`/api/sessions/${id}`);
    drawHead();
    if (s.state === 'ended') drawLive();
  });
  // a language switch redraws in place: the call goes on
  ctx.onLang(() => {
    drawHead();
    void drawInvitations();
    drawn = '';
    void refreshLive();
  });
  ctx.onLeave(() => {
    clearInterval(timer);
    clearInterval(poll);
    void call?.leave();
  });
}
