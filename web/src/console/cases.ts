// Cases: the list with filters, the new-case form, and one case (parties, timeline,
// sessions, scheduling).
import { eventText } from '../events';
import { get, patch, post, type Case, type Centre, type Session, type Staff } from '../api';
import { loopSection } from './caseloop';
import { docsSection } from './documents';
import { h, T, fmtTime, mount, toast } from '../dom';
import { t, tv, joinNames } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { sessionTable } from './today';
import { CATEGORIES, RISKS, STATUSES, emptyRow, field, localInputValue, modal, riskChip, statusChip, valueSelect } from './ui';

export async function casesPage(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const status = valueSelect('status', 'status', STATUSES, q.get('status') ?? '', 'filter_all_status');
  const risk = valueSelect('risk', 'grade', RISKS, q.get('risk') ?? '', 'filter_all_risk');
  const cat = valueSelect('category', 'cat', CATEGORIES, q.get('category') ?? '', 'filter_all_cat');
  const text = h('input', { name: 'q', type: 'search', value: q.get('q') ?? '', tPlaceholder: 'search' });
  const { centres } = await get<{ centres: Centre[] }>('/api/centres').catch(() => ({ centres: [] as Centre[] }));
  const centre = h(
    'select',
    { name: 'centre' },
    h('option', { value: '' }, T('filter_all_centre')),
    ...centres.map((c) => h('option', { value: c.code, selected: c.code === (q.get('centre') ?? '') }, `${c.name}（${tv('tier', c.tier)}）`)),
  );
  const body = h('tbody');
  const load = async () => {
    const params = new URLSearchParams();
    if (status.value) params.set('status', status.value);
    if (risk.value) params.set('risk', risk.value);
    if (centre.value) params.set('centre', centre.value);
    const { cases } = await get<{ cases: Case[] }>('/api/cases?' + params.toString());
    const needle = text.value.trim().toLowerCase();
    const list = cases.filter(
      (c) =>
        (!cat.value || c.category === cat.value) &&
        (!needle || [c.number, c.title, c.mediator_name, c.centre_name, ...c.parties.map((p) => p.name)].some((x) => (x ?? '').toLowerCase().includes(needle))),
    );
    body.replaceChildren(
      ...(list.length
        ? list.map((c) =>
            h(
              'tr',
              { class: 'click', dataset: { case: String(c.id) }, onclick: () => ctx.go(`/console/cases/${c.id}`) },
              h('td', { class: 'mono nowrap' }, c.number),
              h('td', { class: 'title-cell' }, h('a', { href: `/console/cases/${c.id}` }, c.title)),
              h('td', null, tv('cat', c.category)),
              h('td', null, riskChip(c.risk)),
              h('td', null, statusChip(c.status)),
              h('td', { class: 'hide-sm' }, joinNames(c.parties.map((p) => p.name))),
              h('td', { class: 'hide-sm' }, c.mediator_name || c.mediator || ''),
              h('td', { class: 'hide-sm' }, c.centre_name || c.centre),
              h('td', { class: 'hide-sm' }, fmtTime(c.created_at).slice(0, 10)),
            ),
          )
        : [emptyRow(9, 'cases_none')]),
    );
    const p = new URLSearchParams();
    for (const [k, el] of [['status', status], ['risk', risk], ['category', cat], ['centre', centre], ['q', text]] as const) if (el.value) p.set(k, el.value);
    history.replaceState(null, '', '/console/cases' + (p.toString() ? '?' + p : ''));
  };
  for (const el of [status, risk, cat, centre]) el.addEventListener('change', () => void load());
  text.addEventListener('input', () => void load());
  mount(
    ctx.content,
    h('h1', null, icon('folder'), T('nav_cases'), h('a', { class: 'btn primary small', href: '/console/cases/new' }, icon('plus'), T('nav_new_case'))),
    h('div', { class: 'filters' }, status, risk, cat, centre, text),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'list cases' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ...(['case_no', 'case_title', 'case_category', 'case_grade', 'case_status', 'case_parties', 'case_mediator', 'case_centre', 'case_created'] as const).map((k, i) => h('th', { class: i >= 5 ? 'hide-sm' : '' }, T(k))),
          ),
        ),
        body,
      ),
    ),
  );
  await load();
  ctx.on('case', () => void load());
}

export async function newCasePage(ctx: Ctx): Promise<void> {
  const mediators = await get<{ staff: Staff[] }>('/api/staff?role=mediator').catch(() => ({ staff: [] as Staff[] }));
  const title = h('input', { name: 'title', required: true, maxlength: '200' });
  const category = valueSelect('category', 'cat', CATEGORIES, 'other');
  const risk = valueSelect('risk', 'grade', RISKS, 'blue');
  const desc = h('textarea', { name: 'description' });
  const mediator = h(
    'select',
    { name: 'mediator' },
    h('option', { value: '' }, '—'),
    ...mediators.staff.map((s) => h('option', { value: s.username, selected: s.username === ctx.me.username }, `${s.name}（${s.centre_name ?? s.centre}）${s.gold ? ' ★' : ''}`)),
  );
  const parties = h('div', { class: 'col parties' });
  const addParty = (side = 'applicant') => {
    const row = h(
      'div',
      { class: 'row party-row' },
      h('input', { name: 'party-name', class: 'grow', tPlaceholder: 'party_name', style: { width: 'auto', flex: '2' } }),
      valueSelect('party-side', 'side', ['applicant', 'respondent'], side),
      h('input', { name: 'party-phone', type: 'tel', tPlaceholder: 'party_phone', style: { width: 'auto', flex: '1' } }),
      h('button', { class: 'btn ghost small', type: 'button', onclick: () => row.remove(), tAria: 'close' }, icon('x')),
    );
    parties.appendChild(row);
  };
  addParty('applicant');
  addParty('respondent');
  const form = h(
    'form',
    {
      class: 'card new-case',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const ps = [...parties.querySelectorAll('.party-row')]
          .map((r) => ({
            name: (r.querySelector('[name=party-name]') as HTMLInputElement).value.trim(),
            side: (r.querySelector('[name=party-side]') as HTMLSelectElement).value,
            phone: (r.querySelector('[name=party-phone]') as HTMLInputElement).value.trim() || undefined,
          }))
          .filter((p) => p.name);
        try {
          const c = await post<Case>('/api/cases', {
            title: title.value.trim(),
            category: category.value,
            risk: risk.value,
            description: desc.value.trim() || undefined,
            mediator: mediator.value || undefined,
            parties: ps,
          });
          ctx.go(`/console/cases/${c.id}`);
        } catch (e) {
          toast((e as Error).message, 'error');
        }
      },
    },
    field('case_title', title),
    h('div', { class: 'two-col' }, field('case_category', category), field('case_grade', risk)),
    field('case_mediator', mediator),
    field('case_summary', desc),
    h('h3', null, T('case_parties')),
    parties,
    h('button', { class: 'btn small', type: 'button', onclick: () => addParty('respondent') }, icon('plus'), T('party_add')),
    h('div', { class: 'actions end' }, h('button', { class: 'btn primary', type: 'submit', 'data-action': 'create-case' }, T('case_create'))),
  );
  mount(ctx.content, h('h1', null, icon('plus'), T('nav_new_case')), form);
}

export async function casePage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  const draw = async () => {
    const c = await get<Case>(`/api/cases/${id}`);
    const idx = STATUSES.indexOf(c.status);
    // closing goes through the loop panel (outcome and how the citizen was informed)
    const next = idx >= 0 && idx < STATUSES.length - 2 ? STATUSES[idx + 1] : '';
    const advance = next
      ? h(
          'button',
          {
            class: 'btn small',
            onclick: async () => {
              try {
                await patch(`/api/cases/${id}`, { status: next });
                await draw();
              } catch (e) {
                toast((e as Error).message, 'error');
              }
            },
          },
          icon('arrowRight'),
          T('case_advance'),
          ': ',
          tv('status', next),
        )
      : null;
    const sessions = (c.sessions ?? []).slice().sort((a, b) => (b.scheduled_at ?? '').localeCompare(a.scheduled_at ?? ''));
    mount(
      ctx.content,
      h('h1', null, h('span', { class: 'mono' }, c.number), c.title, riskChip(c.risk), statusChip(c.status)),
      h(
        'div',
        { class: 'two-col' },
        h(
          'div',
          { class: 'card' },
          h(
            'dl',
            { class: 'facts' },
            h('dt', null, T('case_category')),
            h('dd', null, tv('cat', c.category)),
            h('dt', null, T('case_centre')),
            h('dd', null, c.centre_name || c.centre, c.tier ? ` · ${tv('tier', c.tier)}` : ''),
            h('dt', null, T('case_mediator')),
            h('dd', null, c.mediator_name || c.mediator || '—'),
            h('dt', null, T('case_created')),
            h('dd', null, fmtTime(c.created_at)),
            c.outcome ? [h('dt', null, T('rec_outcome')), h('dd', null, c.outcome)] : null,
          ),
          c.description ? h('p', null, c.description) : null,
          h('div', { class: 'row' }, advance),
        ),
        h(
          'div',
          { class: 'card' },
          h('h3', null, T('case_parties')),
          ...(c.parties.length
            ? c.parties.map((p) => h('div', { class: 'person' }, icon('user'), h('span', { class: 'pname' }, p.name), h('span', { class: 'chip' }, tv('side', p.side)), p.phone ? h('span', { class: 'muted small' }, p.phone) : null))
            : [h('p', { class: 'muted' }, '—')]),
        ),
      ),
      h(
        'div',
        { class: 'card' },
        h('h3', null, T('case_sessions'), h('button', { class: 'btn primary small', 'data-action': 'schedule', onclick: () => scheduleDialog(ctx, c) }, icon('plus'), T('sess_schedule'))),
        sessions.length ? sessionTable(sessions, ctx, true) : h('p', { class: 'muted' }, T('sess_none')),
        sessions.some((s) => s.state === 'ended')
          ? h(
              'div',
              { class: 'row', style: { marginTop: '.6rem' } },
              ...sessions.filter((s) => s.state === 'ended').map((s) => h('a', { class: 'btn small', href: `/console/sessions/${s.id}/file` }, icon('folder'), T('case_file'), ': ', s.title)),
              h('button', { class: 'btn small', 'data-action': 'verify-case', onclick: (e: Event) => void verifyCase(e.currentTarget as HTMLElement) }, icon('shield'), T('cf_verify_case')),
            )
          : null,
      ),
      docsSection(ctx, c.id), // documents.ts (issue 10)
      loopSection(c, draw), // caseloop.ts (issue 11)
      h(
        'div',
        { class: 'card' },
        h('h3', null, T('case_timeline')),
        h(
          'ul',
          { class: 'timeline' },
          ...(c.timeline ?? []).map((e) => h('li', null, h('div', { class: 'muted small' }, fmtTime(e.time), ' · ', tv('ev', e.kind), ' · ', e.actor ?? ''), h('div', null, eventText(e) || tv('ev', e.kind)))),
        ),
      ),
    );
  };
  await draw();
  ctx.on('case', (d) => {
    if (String(d.case_id) === id) void draw();
  });
  ctx.on('session', (d) => {
    if (String(d.case_id) === id) void draw();
  });
}

// verifyCase checks the whole case folder (every session and the custody log) on the server.
async function verifyCase(btn: HTMLElement): Promise<void> {
  const id = location.pathname.split('/').pop();
  const out = btn.parentElement!.querySelector('.verify-case-result') ?? btn.parentElement!.appendChild(h('div', { class: 'verify-case-result' }));
  try {
    const r = await post<{ ok: boolean; problems?: string[]; checked?: string[] }>(`/api/cases/${id}/file/verify`, {});
    out.replaceChildren(
      h('span', { class: 'check-line ' + (r.ok ? 'ok' : 'bad'), dataset: { verified: String(r.ok) } }, icon(r.ok ? 'check' : 'alert'), T(r.ok ? 'cf_verify_ok' : 'cf_verify_bad'), r.checked ? ` (${r.checked.length} ✓)` : ''),
      ...(r.problems ?? []).map((p) => h('div', { class: 'check-line bad small' }, p)),
    );
  } catch (e) {
    out.replaceChildren(h('span', { class: 'check-line bad' }, (e as Error).message));
  }
}

function scheduleDialog(ctx: Ctx, c: Case): void {
  const kind = valueSelect('kind', 'sess_kind', ['mediation', 'reception', 'consultation'], 'mediation');
  const title = h('input', { name: 'title', value: t('sess_kind_mediation') + ' · ' + c.title, required: true });
  const when = h('input', { name: 'scheduled_at', type: 'datetime-local', value: localInputValue() });
  const policy = h(
    'select',
    { name: 'caucus_policy' },
    h('option', { value: 'off' }, t('sess_caucus_none')),
    h('option', { value: 'sealed' }, t('sess_caucus_sealed')),
  );
  const rec = h('input', { type: 'checkbox', name: 'record_on_open', checked: true });
  const body = h(
    'div',
    null,
    field('sess_kind', kind),
    field('sess_title', title),
    field('sess_when', when),
    field('sess_caucus_policy', policy),
    h('label', { class: 'check' }, rec, T('live_rec_start')),
  );
  const close = modal(T('sess_schedule'), body, [
    h('button', { class: 'btn', onclick: () => close() }, T('cancel')),
    h(
      'button',
      {
        class: 'btn primary',
        'data-action': 'schedule-ok',
        onclick: async () => {
          try {
            const s = await post<Session>(`/api/cases/${c.id}/sessions`, {
              kind: kind.value,
              title: title.value.trim(),
              scheduled_at: when.value ? new Date(when.value).toISOString() : undefined,
              caucus_policy: policy.value,
              record_on_open: rec.checked,
            });
            close();
            ctx.go(`/console/sessions/${s.id}`);
          } catch (e) {
            toast((e as Error).message, 'error');
          }
        },
      },
      T('save'),
    ),
  ]);
}
