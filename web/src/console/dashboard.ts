// The dashboard: accepted, closed and closure rate by tier, category and risk grade (SVG
// bar charts from /api/stats), and the live sessions now. Also the staff directory.
import { get, type Session, type Staff, type StatRow, type Stats } from '../api';
import { h, T, mount } from '../dom';
import { tv, joinNames } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { sessionTable } from './today';
import { TIERS, valueSelect } from './ui';
import { attendanceTable, type AttendanceRow } from './lectures';

const NS = 'http://www.w3.org/2000/svg';
function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Horizontal grouped bars: accepted (light) and closed (dark) per row, the rate at the end. */
export function barChart(rows: StatRow[], label: (k: string) => string): SVGSVGElement {
  const rowH = 34;
  const left = 110;
  const width = 560;
  const barW = width - left - 70;
  const max = Math.max(1, ...rows.map((r) => r.accepted));
  const root = svg('svg', { viewBox: `0 0 ${width} ${rows.length * rowH + 10}`, role: 'img' }) as SVGSVGElement;
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    root.appendChild(svg('text', { x: left - 8, y: y + 18, 'text-anchor': 'end' }, label(r.key)));
    root.appendChild(svg('rect', { x: left, y, width: Math.max(1, (r.accepted / max) * barW), height: 12, rx: 2, fill: '#f4b4ae' }));
    root.appendChild(svg('rect', { x: left, y: y + 13, width: Math.max(1, (r.closed / max) * barW), height: 12, rx: 2, fill: '#b3261e' }));
    root.appendChild(svg('text', { x: left + (r.accepted / max) * barW + 6, y: y + 11 }, String(r.accepted)));
    root.appendChild(svg('text', { x: left + (r.closed / max) * barW + 6, y: y + 24 }, `${r.closed} · ${(r.closure_rate * 100).toFixed(1)}%`));
  });
  return root;
}

function legend(): HTMLElement {
  const sw = (c: string) => h('span', { style: { display: 'inline-block', width: '12px', height: '12px', background: c, borderRadius: '2px', verticalAlign: 'middle' } });
  return h('div', { class: 'row small muted' }, sw('#f4b4ae'), T('dash_accepted'), sw('#b3261e'), T('dash_closed'));
}

export async function dashboardPage(ctx: Ctx): Promise<void> {
  const lectures = get<{ lectures: number; peak: number; rows: AttendanceRow[] }>('/api/lectures/stats').catch(() => null);
  const [tier, cat, risk, live] = await Promise.all([
    get<Stats>('/api/stats?by=tier'),
    get<Stats>('/api/stats?by=category'),
    get<Stats>('/api/stats?by=risk'),
    get<{ sessions: Session[] }>('/api/sessions?state=live').catch(() => ({ sessions: [] as Session[] })),
  ]);
  const total = tier.total;
  const chart = (title: Parameters<typeof T>[0], st: Stats, prefix: string) =>
    h('div', { class: 'card chart', dataset: { by: st.by } }, h('h3', null, T(title)), legend(), barChart(st.rows, (k) => tv(prefix, k) || k));
  mount(
    ctx.content,
    h('h1', null, icon('chart'), T('dash_title')),
    h(
      'div',
      { class: 'cards' },
      h('div', { class: 'card' }, h('div', { class: 'muted' }, T('dash_accepted')), h('div', { class: 'stat' }, String(total.accepted))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, T('dash_closed')), h('div', { class: 'stat' }, String(total.closed))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, T('dash_rate')), h('div', { class: 'stat' }, `${(total.closure_rate * 100).toFixed(2)}%`)),
    ),
    h('div', { class: 'two-col', style: { marginTop: '1rem' } }, chart('dash_by_tier', tier, 'tier'), chart('dash_by_grade', risk, 'grade')),
    chart('dash_by_category', cat, 'cat'),
    h('div', { class: 'card' }, h('h3', null, T('dash_live')), live.sessions.length ? sessionTable(live.sessions, ctx, true) : h('p', { class: 'muted' }, T('dash_live_none'))),
  );
  // Lecture attendance per centre (issue 15): after the case charts, it may come later.
  const lec = await lectures;
  if (lec)
    ctx.content.appendChild(
      h(
        'div',
        { class: 'card lecture-attendance' },
        h('h3', null, icon('play'), T('lec_attendance')),
        h('div', { class: 'row small muted' }, T('lec_count_total'), h('strong', null, String(lec.lectures)), T('lec_peak'), h('strong', null, String(lec.peak))),
        attendanceTable(lec.rows),
      ),
    );
}

export async function directoryPage(ctx: Ctx): Promise<void> {
  const q = h('input', { type: 'search', tPlaceholder: 'search' });
  const tier = valueSelect('tier', 'tier', TIERS, '', 'filter_all_tier');
  const role = valueSelect('role', 'role', ['mediator', 'judge', 'lawyer', 'counsellor', 'leader', 'clerk', 'observer'], '', 'filter_all_role');
  const body = h('tbody');
  const load = async () => {
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (tier.value) p.set('tier', tier.value);
    if (role.value) p.set('role', role.value);
    const { staff } = await get<{ staff: Staff[] }>('/api/staff?' + p.toString());
    body.replaceChildren(
      ...staff.map((s) =>
        h(
          'tr',
          null,
          h('td', null, s.name, s.gold ? [' ', h('span', { class: 'chip gold' }, icon('star'), T('dir_gold'))] : null),
          h('td', null, joinNames(s.roles.map((r) => tv('role', r)))),
          h('td', null, s.centre_name ?? s.centre),
          h('td', null, tv('tier', s.tier ?? '')),
        ),
      ),
    );
  };
  q.addEventListener('input', () => void load());
  tier.addEventListener('change', () => void load());
  role.addEventListener('change', () => void load());
  mount(
    ctx.content,
    h('h1', null, icon('users'), T('dir_title')),
    h('div', { class: 'filters' }, q, tier, role),
    h('div', { class: 'table-wrap' }, h('table', { class: 'list' }, h('thead', null, h('tr', null, h('th', null, T('dir_name')), h('th', null, T('dir_role')), h('th', null, T('dir_centre')), h('th', null, T('dir_tier')))), body)),
  );
  await load();
}
