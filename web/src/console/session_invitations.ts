// The invitations card of a session: links, QR codes, revoking, a new invitation.
import { del, get, post, type Invitation } from '../api';
import { h, T, fmtTime, mount, toast } from '../dom';
import { tv } from '../i18n';
import { icon } from '../icons';
import type { SessionPage } from './session_page';
import { INVITE_ROLES, copyText, emptyRow, roleText, showQR, valueSelect } from './ui';

export async function drawInvitations(pg: SessionPage, invBox: HTMLElement): Promise<void> {
  const { id, s, c } = pg;
  if (!pg.isHost) {
    invBox.classList.add('hidden');
    return;
  }
  const redraw = () => drawInvitations(pg, invBox);
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
                    await redraw();
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
          await redraw();
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
}
