// Pulling staff into a live session: search the directory, invite one.
import { get, post, type Staff } from '../api';
import { h, T, toast } from '../dom';
import { t, tv, joinNames } from '../i18n';
import { icon } from '../icons';
import type { SessionPage } from './session_page';
import { modal } from './ui';

export function pullIn(pg: SessionPage): void {
  const { id, ctx } = pg;
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
}
