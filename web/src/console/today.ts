// The console's start page: today's sessions and the live ones.
import { get, type Session } from '../api';
import { h, T, fmtClock, fmtTime, mount } from '../dom';
import { tv } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { emptyRow, stateChip } from './ui';

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function sessionRows(list: Session[], ctx: Ctx, showDate = false): HTMLElement[] {
  return list.map((s) =>
    h(
      'tr',
      { class: 'click', dataset: { session: String(s.id) }, onclick: () => ctx.go(`/console/sessions/${s.id}`) },
      h('td', null, !s.scheduled_at ? '—' : showDate ? fmtTime(s.scheduled_at) : fmtClock(s.scheduled_at)),
      h('td', null, h('a', { href: `/console/sessions/${s.id}` }, s.title)),
      h('td', null, s.case_number ? `${s.case_number} ${s.case_title ?? ''}` : ''),
      h('td', null, tv('sess_kind', s.kind)),
      h('td', null, stateChip(s.state)),
    ),
  );
}

export function sessionTable(list: Session[], ctx: Ctx, showDate = false): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list sessions' },
      h('thead', null, h('tr', null, h('th', null, T('sess_when')), h('th', null, T('sess_title')), h('th', null, T('invite_case')), h('th', null, T('sess_kind')), h('th', null, T('sess_state')))),
      h('tbody', null, ...(list.length ? sessionRows(list, ctx, showDate) : [emptyRow(5, 'today_none')])),
    ),
  );
}

export async function todayPage(ctx: Ctx): Promise<void> {
  const draw = async () => {
    const { sessions } = await get<{ sessions: Session[] }>('/api/sessions');
    const now = new Date();
    const live = sessions.filter((s) => s.state === 'live');
    const today = sessions
      // today's, plus open sessions with no fixed time (a reception day, an ad-hoc call)
      .filter((s) => s.state !== 'live' && (s.scheduled_at ? sameDay(new Date(s.scheduled_at), now) : s.state === 'scheduled'))
      .sort((a, b) => (a.scheduled_at ?? '').localeCompare(b.scheduled_at ?? ''));
    const upcoming = sessions
      .filter((s) => s.state === 'scheduled' && s.scheduled_at && new Date(s.scheduled_at) > now && !sameDay(new Date(s.scheduled_at), now))
      .sort((a, b) => (a.scheduled_at ?? '').localeCompare(b.scheduled_at ?? ''))
      .slice(0, 10);
    mount(
      ctx.content,
      h('h1', null, icon('calendar'), T('nav_today'), h('span', { class: 'muted small' }, fmtTime(now).slice(0, 10))),
      live.length ? [h('h2', null, h('span', { class: 'chip live' }, T('live_now'))), sessionTable(live, ctx, true), h('br')] : null,
      sessionTable(today, ctx),
      upcoming.length ? [h('h2', { style: { marginTop: '1.2rem' } }, T('sess_state_scheduled')), sessionTable(upcoming, ctx, true)] : null,
    );
  };
  await draw();
  ctx.on('session', () => void draw());
}
