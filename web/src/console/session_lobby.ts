// The lobby (or, in a reception, the queue) of a live session: who waits, for how long,
// what they wrote; admit and deny, or "admit next".
import type { Live } from '../api';
import { h, T } from '../dom';
import { t } from '../i18n';
import { icon } from '../icons';
import { act, consentChip, waited, type SessionPage } from './session_page';
import { roleText } from './ui';

export function lobbyPanel(pg: SessionPage, L: Live, reception: boolean): HTMLElement {
  const isHost = pg.isHost;
  return h(
    'div',
    { class: 'panel lobby' },
    h('h3', null, h('span', null, icon('door'), ' ', T(reception ? 'rec_queue' : 'live_lobby'), ` (${L.lobby.length})`), reception && isHost ? h('button', { class: 'btn primary small', 'data-action': 'admit-next', disabled: !L.lobby.length, onclick: () => void act(pg, 'next', {}) }, T('rec_admit_next')) : null),
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
              h('span', { class: 'muted small wait', dataset: { identity: p.identity } }, t('live_waited', { t: waited(pg, p) })),
              consentChip(p),
              isHost && !reception
                ? h(
                    'span',
                    { class: 'pbtns' },
                    h('button', { class: 'btn ok small', 'data-action': 'admit', onclick: () => void act(pg, 'admit', { identity: p.identity }) }, T('live_admit')),
                    h('button', { class: 'btn small', 'data-action': 'deny', onclick: () => void act(pg, 'deny', { identity: p.identity }) }, T('live_deny')),
                  )
                : null,
            ),
            p.note ? h('div', { class: 'small' }, h('span', { class: 'muted' }, T('rec_wrote'), '：'), p.note) : null,
          ),
        )
      : [h('p', { class: 'muted small' }, T(reception ? 'rec_queue_empty' : 'live_lobby_empty'))]),
  );
}
