// The case's loop (issue 11) on the case page: supervision items (add, mark done with a
// note), transfers and alerts (read-only), close (outcome + how the citizen was informed)
// or reopen (reason), follow-ups (回访) and the citizen's photos.
import { get, patch, post, type Case } from '../api';
import { h, T, fmtTime, mount, toast } from '../dom';
import { t, tv } from '../i18n';
import { icon } from '../icons';
import { field, localInputValue, valueSelect } from './ui';

interface SupItem { id: number; unit: string; owner: string; deadline: string; note: string; state: string; done_note: string; done_by: string; done_at?: string }
interface Transfer { id: number; from_name: string; to_name: string; department?: { name: string } | null; reason: string; state: string; created_at?: string; return_reason: string; overdue: boolean }
interface Alert { id: number; kind: string; centre_name: string; created_at?: string; acked_by: string; acked_at?: string; overdue: boolean }
interface FollowUp { id: number; method: string; note: string; satisfaction: number; created_by: string; created_at?: string }
interface Loop { alerts: Alert[]; transfers: Transfer[]; supervisions: SupItem[]; followups: FollowUp[]; photos: string[] }

/** How the citizen is told (store.InformedBy); also the follow-up methods. */
export const INFORMED_BY = ['phone', 'sms', 'in_person', 'visit', 'letter', 'video', 'tracking_page'];

const stateClass: Record<string, string> = { open: 'yellow', done: 'ok', overdue: 'red', pending: 'yellow', accepted: 'ok', returned: '' };

/** The loop panel; changes call redraw (the case page draws itself again, this panel too). */
export function loopSection(c: Case, redraw: () => Promise<void>): HTMLElement {
  const closed = c.status === 'closed';
  const box = h('div', { class: 'card case-loop', dataset: { status: c.status } }, h('h2', null, icon('shield'), ' ', T('loop_title')));
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      await redraw();
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  const draw = async () => {
    let l: Loop;
    try {
      l = await get<Loop>(`/api/cases/${c.id}/loop`);
    } catch (e) {
      mount(box, h('h2', null, icon('shield'), ' ', T('loop_title')), h('p', { class: 'muted small' }, (e as Error).message));
      return;
    }
    mount(
      box,
      h('h2', null, icon('shield'), ' ', T('loop_title')),
      l.photos.length
        ? [h('h3', null, T('intake_photos')), h('div', { class: 'loop-thumbs' }, ...l.photos.map((u) => h('a', { href: u, target: '_blank', rel: 'noopener' }, h('img', { src: u, alt: '', loading: 'lazy' }))))]
        : null,
      supervisions(c, l.supervisions, closed, act),
      l.transfers.length ? transfers(l.transfers) : null,
      l.alerts.length ? alerts(l.alerts) : null,
      closed ? reopenForm(c, act) : closeForm(c, l.supervisions.some((s) => s.state !== 'done'), act),
      followUps(c, l.followups, act),
    );
  };
  void draw();
  return box;
}

type Act = (f: () => Promise<unknown>) => Promise<void>;

function chip(state: string, label: string): HTMLElement {
  return h('span', { class: 'chip ' + (stateClass[state] ?? '') }, label);
}

function supervisions(c: Case, items: SupItem[], closed: boolean, act: Act): HTMLElement[] {
  const rows = items.map((sv) => {
    const note = h('input', { name: 'done_note', tPlaceholder: 'loop_sup_done_note', style: { width: 'auto', flex: '1' } });
    return h(
      'div',
      { class: 'person sup-item', dataset: { sup: String(sv.id), state: sv.state } },
      h('span', { class: 'pname' }, sv.unit),
      sv.owner ? h('span', { class: 'muted small' }, sv.owner) : null,
      h('span', { class: 'muted small' }, T('loop_sup_deadline'), '：', fmtTime(sv.deadline).slice(0, 16)),
      chip(sv.state, tv('loop_state', sv.state)),
      sv.note ? h('div', { class: 'small', style: { flexBasis: '100%' } }, sv.note) : null,
      sv.state === 'done'
        ? h('div', { class: 'small muted done-note', style: { flexBasis: '100%' } }, icon('check'), ' ', sv.done_note, ' · ', sv.done_by, ' ', fmtTime(sv.done_at))
        : closed
          ? null
          : h(
              'div',
              { class: 'row', style: { flexBasis: '100%' } },
              note,
              h(
                'button',
                {
                  class: 'btn small',
                  'data-action': 'sup-done',
                  onclick: () => {
                    if (!note.value.trim()) return note.focus();
                    void act(() => patch(`/api/supervisions/${sv.id}`, { done: true, note: note.value.trim() }));
                  },
                },
                icon('check'),
                T('loop_sup_done'),
              ),
            ),
    );
  });
  const out: HTMLElement[] = [h('h3', null, T('loop_sup')), ...(rows.length ? rows : [h('p', { class: 'muted small' }, T('loop_sup_none'))])];
  if (closed) return out;
  const unit = h('input', { name: 'unit', required: true, tPlaceholder: 'loop_sup_unit' });
  const owner = h('input', { name: 'owner', tPlaceholder: 'loop_sup_owner' });
  const deadline = h('input', { name: 'deadline', type: 'datetime-local', required: true, value: localInputValue(new Date(Date.now() + 3 * 86400_000).toISOString()) });
  const note = h('input', { name: 'note', tPlaceholder: 'loop_sup_note' });
  out.push(
    h(
      'form',
      {
        class: 'filters sup-add',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          void act(() =>
            post(`/api/cases/${c.id}/supervisions`, { unit: unit.value.trim(), owner: owner.value.trim() || undefined, deadline: new Date(deadline.value).toISOString(), note: note.value.trim() }),
          );
        },
      },
      unit,
      owner,
      deadline,
      note,
      h('button', { class: 'btn small', type: 'submit', 'data-action': 'sup-add' }, icon('plus'), T('loop_sup_add')),
    ),
  );
  return out;
}

function transfers(list: Transfer[]): HTMLElement[] {
  return [
    h('h3', null, T('loop_transfers')),
    ...list.map((tr) =>
      h(
        'div',
        { class: 'person transfer-row', dataset: { state: tr.state } },
        icon('arrowRight'),
        h('span', { class: 'pname' }, tr.from_name, ' → ', tr.department?.name || tr.to_name),
        chip(tr.overdue ? 'overdue' : tr.state, tr.overdue ? t('alerts_overdue') : tv('loop_tr', tr.state)),
        h('span', { class: 'muted small' }, fmtTime(tr.created_at)),
        h('div', { class: 'small', style: { flexBasis: '100%' } }, tr.reason, tr.return_reason ? ` · ${t('intake_return')}：${tr.return_reason}` : ''),
      ),
    ),
  ];
}

function alerts(list: Alert[]): HTMLElement[] {
  return [
    h('h3', null, T('loop_alerts')),
    ...list.map((a) =>
      h(
        'div',
        { class: 'person alert-item', dataset: { kind: a.kind } },
        icon('alert'),
        h('span', { class: 'pname' }, tv('alert', a.kind)),
        h('span', null, a.centre_name),
        h('span', { class: 'muted small' }, fmtTime(a.created_at)),
        a.acked_at ? chip('done', `${t('loop_acked')} · ${a.acked_by}`) : chip(a.overdue ? 'overdue' : 'open', t(a.overdue ? 'alerts_overdue' : 'loop_unacked')),
      ),
    ),
  ];
}

function closeForm(c: Case, openItems: boolean, act: Act): HTMLElement {
  const outcome = h('textarea', { name: 'outcome', required: true });
  const informed = valueSelect('informed_by', 'informed', INFORMED_BY, 'phone');
  return h(
    'form',
    {
      class: 'loop-close',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void act(() => post(`/api/cases/${c.id}/close`, { outcome: outcome.value.trim(), informed_by: informed.value }));
      },
    },
    h('h3', null, T('loop_close')),
    openItems ? h('p', { class: 'muted small' }, T('loop_close_open_items')) : null,
    field('track_outcome', outcome),
    field('loop_informed', informed),
    h('div', { class: 'actions end' }, h('button', { class: 'btn primary small', type: 'submit', 'data-action': 'case-close', disabled: openItems }, icon('check'), T('loop_close'))),
  );
}

function reopenForm(c: Case, act: Act): HTMLElement {
  const reason = h('input', { name: 'reason', required: true, tPlaceholder: 'loop_reopen_reason', style: { width: 'auto', flex: '1' } });
  return h(
    'div',
    { class: 'loop-closed' },
    h('h3', null, T('status_closed')),
    h('p', { class: 'muted small closed-note' }, T('loop_closed_note')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, T('track_outcome')),
      h('dd', { class: 'closed-outcome' }, c.outcome || '—'),
      h('dt', null, T('loop_informed')),
      h('dd', { class: 'closed-informed' }, tv('informed', c.informed_by)),
      c.closed_at ? [h('dt', null, T('loop_closed_at')), h('dd', null, fmtTime(c.closed_at))] : null,
    ),
    h(
      'form',
      {
        class: 'row loop-reopen',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          void act(() => post(`/api/cases/${c.id}/reopen`, { reason: reason.value.trim() }));
        },
      },
      reason,
      h('button', { class: 'btn small', type: 'submit', 'data-action': 'case-reopen' }, icon('arrowLeft'), T('loop_reopen')),
    ),
  );
}

function followUps(c: Case, list: FollowUp[], act: Act): HTMLElement[] {
  const method = valueSelect('method', 'informed', INFORMED_BY, 'phone');
  const note = h('input', { name: 'fu_note', required: true, tPlaceholder: 'loop_fu_note' });
  const sat = h(
    'select',
    { name: 'satisfaction' },
    h('option', { value: '0' }, t('loop_fu_sat')),
    ...[5, 4, 3, 2, 1].map((n) => h('option', { value: String(n) }, '★'.repeat(n))),
  );
  return [
    h('h3', null, T('loop_followups')),
    ...(list.length
      ? list.map((f) =>
          h(
            'div',
            { class: 'person followup-item' },
            h('span', { class: 'chip' }, tv('informed', f.method)),
            h('span', null, f.note),
            f.satisfaction ? h('span', { class: 'small' }, '★'.repeat(f.satisfaction)) : null,
            h('span', { class: 'muted small' }, f.created_by, ' ', fmtTime(f.created_at)),
          ),
        )
      : [h('p', { class: 'muted small' }, T('loop_fu_none'))]),
    h(
      'form',
      {
        class: 'filters fu-add',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          void act(() => post(`/api/cases/${c.id}/followups`, { method: method.value, note: note.value.trim(), satisfaction: Number(sat.value) || undefined }));
        },
      },
      method,
      note,
      sat,
      h('button', { class: 'btn small', type: 'submit', 'data-action': 'fu-add' }, icon('plus'), T('loop_fu_add')),
    ),
  ];
}
