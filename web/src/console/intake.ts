// The console's side of the loop (issue 11): the intake queue (requests to assess, with
// the duty toggle for video calls and the transfers waiting for this centre) and the
// alerts a leader acknowledges.
import { get, post, api, type Case } from '../api';
import { h, T, fmtTime, mount, toast } from '../dom';
import { t, tv } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { CATEGORIES, RISKS, emptyRow, riskChip, valueSelect } from './ui';

const BOARDS = ['dispute', 'petition', 'livelihood', 'security', 'litigation_source', 'business'];

interface LoopCase extends Case { board: string; channel: string; address: string; tracking_code: string }
interface Duty { centre: string; session_id: number; hosts: string[]; on_duty: boolean; waiting: number }
interface Transfer { id: number; case_id: number; case_number: string; case_title: string; board: string; description: string; from_name: string; to_name: string; reason: string; deadline: string; overdue: boolean }
export interface Alert { id: number; case_id: number; case_number: string; case_title: string; centre_name: string; kind: string; ack_by: string; acked_at: string | null; overdue: boolean }

function assessForm(c: LoopCase, centres: { code: string; name: string }[], done: () => void): HTMLElement {
  const board = valueSelect('board', 'board', BOARDS, c.board || 'dispute');
  const cat = valueSelect('category', 'cat', CATEGORIES, c.category);
  const risk = valueSelect('risk', 'grade', RISKS, c.risk);
  const major = h('input', { type: 'checkbox', name: 'major' });
  const notes = h('textarea', { name: 'notes', rows: 2 });
  const to = h('select', { name: 'to' }, h('option', { value: '' }, '—'), ...centres.filter((x) => x.code !== c.centre).map((x) => h('option', { value: x.code }, x.name)));
  const reason = h('input', { name: 'reason' });
  return h(
    'div',
    { class: 'intake-actions' },
    h('form', {
      class: 'row assess',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          await post(`/api/cases/${c.id}/assess`, { notes: notes.value.trim(), board: board.value, category: cat.value, risk: risk.value, major: major.checked });
          done();
        } catch (e) {
          toast((e as Error).message, 'error');
        }
      },
    }, board, cat, risk, h('label', { class: 'check' }, major, T('intake_major')), notes, h('button', { class: 'btn primary', dataset: { action: 'assess' } }, T('intake_assess'))),
    h('form', {
      class: 'row transfer',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        if (!to.value) return;
        try {
          await post(`/api/cases/${c.id}/transfer`, { centre: to.value, reason: reason.value.trim() });
          done();
        } catch (e) {
          toast((e as Error).message, 'error');
        }
      },
    }, h('span', null, T('intake_to_centre')), to, h('input', { type: 'hidden' }), reason, h('button', { class: 'btn', dataset: { action: 'transfer' } }, T('intake_transfer'))),
  );
}

export async function intakePage(ctx: Ctx): Promise<void> {
  const [list, assessed, duty, incoming, centres] = await Promise.all([
    get<{ cases: LoopCase[]; total: number }>('/api/cases?status=accepted&kind=case&page=1&per_page=50'),
    get<{ cases: LoopCase[]; total: number }>('/api/cases?status=assessed&kind=case&page=1&per_page=50'),
    get<Duty>(`/api/centres/${encodeURIComponent(ctx.me.centre)}/duty`).catch(() => null),
    get<{ transfers: Transfer[] }>('/api/transfers'),
    get<{ centres: { code: string; name: string }[] }>('/api/centres'),
  ]);
  const reload = () => void intakePage(ctx);
  const dutyBox = duty
    ? h('div', { class: 'card duty', dataset: { on: duty.on_duty ? '1' : '' } },
        h('h3', null, icon('cam'), T('intake_duty_room'), ' ', h('span', { class: 'chip' }, T('intake_waiting', { n: duty.waiting }))),
        h('button', {
          class: duty.on_duty ? 'btn' : 'btn primary', dataset: { action: 'duty' },
          onclick: async () => { await api('POST', `/api/centres/${encodeURIComponent(ctx.me.centre)}/duty`, { on: !duty.on_duty }); reload(); },
        }, T(duty.on_duty ? 'intake_duty_on' : 'intake_duty_off')),
        duty.on_duty ? h('a', { class: 'btn', href: `/console/sessions/${duty.session_id}`, dataset: { action: 'duty-room' } }, icon('door'), T('intake_duty_room')) : null)
    : null;
  const transfers = incoming.transfers.length
    ? h('div', { class: 'card incoming' }, h('h3', null, T('intake_incoming')),
        ...incoming.transfers.map((tr) => h('div', { class: 'transfer-item', dataset: { transfer: String(tr.id) } },
          h('strong', { class: 'mono' }, tr.case_number), ' ', tr.case_title, ' · ', tr.from_name, ' → ', tr.to_name,
          h('p', { class: 'small' }, tr.reason, ' · ', fmtTime(tr.deadline), tr.overdue ? [' ', h('span', { class: 'chip red' }, T('alerts_overdue'))] : null),
          h('button', { class: 'btn primary', dataset: { action: 'accept' }, onclick: async () => { await post(`/api/transfers/${tr.id}/accept`); reload(); } }, T('intake_accept')),
          h('button', { class: 'btn', dataset: { action: 'return' }, onclick: async () => { const r = prompt(t('intake_reason')); if (r) { await post(`/api/transfers/${tr.id}/return`, { reason: r }); reload(); } } }, T('intake_return')))))
    : null;
  const item = (c: LoopCase) =>
    h('div', { class: 'card intake-item', dataset: { case: String(c.id), channel: c.channel } },
      h('div', { class: 'row' }, h('a', { class: 'mono', href: `/console/cases/${c.id}` }, c.number), riskChip(c.risk), h('span', { class: 'chip' }, tv('board', c.board)), h('span', { class: 'chip' }, tv('channel', c.channel)),
        h('span', { class: 'muted small' }, c.centre_name, ' · ', fmtTime(c.created_at))),
      h('p', null, c.description || c.title),
      h('p', { class: 'small muted' }, c.parties.map((p) => `${p.name} ${p.phone}`).join('；'), c.address ? ' · ' + c.address : ''),
      assessForm(c, centres.centres, reload));
  const rows = list.cases.map(item);
  mount(
    ctx.content,
    h('h1', null, icon('folder'), T('intake_title'), ' ', h('span', { class: 'chip', dataset: { total: String(list.total) } }, String(list.total))),
    dutyBox,
    transfers,
    ...(rows.length ? rows : [h('p', { class: 'muted' }, T('intake_none'))]),
    assessed.cases.length ? h('h2', { class: 'to-dispatch' }, T('intake_to_dispatch'), ' ', h('span', { class: 'chip' }, String(assessed.total))) : null,
    ...assessed.cases.map(item),
  );
  ctx.on('case', () => reload());
  ctx.on('transfer', () => reload());
}

export async function alertsPage(ctx: Ctx): Promise<void> {
  const { alerts } = await get<{ alerts: Alert[] }>('/api/alerts');
  const reload = () => void alertsPage(ctx);
  const body = h('tbody', null, ...(alerts.length
    ? alerts.map((a) => h('tr', { class: 'alert-row', dataset: { alert: String(a.id), kind: a.kind } },
        h('td', null, h('span', { class: a.kind === 'red' ? 'chip red' : a.kind === 'yellow' ? 'chip yellow' : 'chip' }, tv('alert', a.kind))),
        h('td', null, h('a', { class: 'mono', href: `/console/cases/${a.case_id}` }, a.case_number), ' ', a.case_title),
        h('td', null, a.centre_name),
        h('td', null, a.overdue ? h('span', { class: 'chip red' }, T('alerts_overdue')) : T('alerts_ack_by', { at: fmtTime(a.ack_by) })),
        h('td', null, ctx.me.roles.some((r) => r === 'leader' || r === 'admin')
          ? h('button', { class: 'btn primary', dataset: { action: 'ack' }, onclick: async () => { await post(`/api/alerts/${a.id}/ack`); reload(); } }, T('alerts_ack'))
          : null)))
    : [emptyRow(5, 'alerts_none')]));
  mount(ctx.content, h('h1', null, icon('alert'), T('alerts_title')), h('div', { class: 'table-wrap' }, h('table', { class: 'list alerts' }, body)));
  ctx.on('alert', () => reload());
}
