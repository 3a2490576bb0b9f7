// The spaces of a live session: who is where and hears whom; moves (buttons or drag and
// drop), back to the lobby, mute, remove; a caucus with one side, everyone back.
import { post, type Live, type LiveParticipant } from '../api';
import { h, T, toast } from '../dom';
import { t, tv, joinNames } from '../i18n';
import { icon } from '../icons';
import { act, consentChip, spaceName, type SessionPage } from './session_page';
import { roleText } from './ui';

// connection quality: what the server measures of each person's link (issue 13); the
// figures ride in the title (they move every poll; only the quality redraws)
function linkChip(p: LiveParticipant): HTMLElement {
  const q = p.link?.quality || 'unknown';
  const l = p.link;
  return h(
    'span',
    {
      class: 'chip link-chip q-' + q,
      dataset: { quality: q },
      title: l ? t('link_detail', { loss: Math.round(l.loss * 1000) / 10, rtt: l.rtt_ms, kbps: l.estimate_kbps }) : '',
    },
    icon('wifi'),
    t(('quality_' + q) as Parameters<typeof t>[0]),
  );
}

export function spacesPanel(pg: SessionPage, L: Live, reception: boolean): HTMLElement {
  const { id, isHost, myIdentity } = pg;
  const spaces = Object.entries(L.spaces ?? {});
  if (!spaces.some(([k]) => k === 'joint')) spaces.unshift(['joint', []]);
  const spaceIds = spaces.map(([k]) => k);
  for (const extra of ['caucus-applicant', 'caucus-respondent']) if (!spaceIds.includes(extra)) spaceIds.push(extra);

  const personRow = (p: LiveParticipant, sp: string) => {
    const moves = isHost
      ? spaceIds.filter((x) => x !== sp).map((x) => h('button', { class: 'btn small', dataset: { action: 'move', space: x }, onclick: () => void act(pg, 'move', { identity: p.identity, space: x }) }, t('live_move_to', { space: spaceName(x, L.spaces[x] ?? []) })))
      : [];
    const micOn = (p.tracks ?? []).some((tr) => tr.kind === 'audio' && !tr.muted);
    // a host's locked mute (issue 12): the party cannot unmute itself until a host lifts it
    const locked = (p.mute_locked ?? []).includes('microphone');
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
      linkChip(p),
      locked ? h('span', { class: 'chip red', dataset: { locked: 'microphone' } }, icon('lock'), T('live_locked_chip')) : null,
      p.host ? null : consentChip(p),
      isHost && p.identity !== myIdentity
        ? h(
            'span',
            { class: 'pbtns' },
            ...moves,
            h('button', { class: 'btn small', dataset: { action: 'lobby' }, onclick: () => void act(pg, 'lobby', { identity: p.identity }) }, T('live_send_back')),
            micOn ? h('button', { class: 'btn small', dataset: { action: 'mute' }, onclick: () => void act(pg, 'mute', { identity: p.identity }) }, T('live_mute')) : null,
            locked
              ? h('button', { class: 'btn small', dataset: { action: 'unlock-mute' }, onclick: () => void act(pg, 'mute', { identity: p.identity, muted: false }) }, icon('mic'), T('live_mute_unlock'))
              : h(
                  'button',
                  { class: 'btn small', dataset: { action: 'lock-mute' }, title: t('live_mute_lock_title'), onclick: () => void act(pg, 'mute', { identity: p.identity, lock: true }) },
                  icon('lock'),
                  T(micOn ? 'live_mute_lock' : 'live_lock_muted'),
                ),
            h(
              'button',
              {
                class: 'btn small danger',
                dataset: { action: 'remove' },
                onclick: () => {
                  if (confirm(t('live_remove_confirm', { name: p.name }))) void act(pg, 'remove', { identity: p.identity });
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
    if (pg.call) await post(`/api/sessions/${id}/move`, { identity: myIdentity, space: sp }).catch(() => undefined);
    await pg.refreshLive();
  };
  const allBack = async () => {
    for (const [sp, ps] of Object.entries(L.spaces)) {
      if (sp === 'joint') continue;
      for (const p of ps) await post(`/api/sessions/${id}/move`, { identity: p.identity, space: 'joint' }).catch((e) => toast((e as Error).message, 'error'));
    }
    await pg.refreshLive();
  };
  return h(
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
            if (who && !ps.some((p) => p.identity === who)) void act(pg, 'move', { identity: who, space: sp });
          },
        },
        h('h4', null, sp === 'joint' ? icon('users') : icon('lock'), spaceName(sp, ps), h('span', { class: 'muted small' }, `(${ps.length})`)),
        ps.length > 1 ? h('div', { class: 'muted small' }, t('live_hears', { names: joinNames(ps.map((p) => p.name)) })) : null,
        ...ps.map((p) => personRow(p, sp)),
      ),
    ),
  );
}
