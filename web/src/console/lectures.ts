// Lectures in the console: the list with a form for a new one, and the moderator's page
// of one lecture: public link and QR code, start and end, going on stage, the viewer
// count, the question queue (answered, bring on stage, take off), guest speakers (a link
// each, no account), attendance by centre.
import { del, get, post } from '../api';
import { Call } from '../call';
import { h, T, fmtTime, mount, setT, toast } from '../dom';
import { t } from '../i18n';
import { icon } from '../icons';
import type { Ctx } from './console';
import { copyText, emptyRow, field, localInputValue, qrSVG } from './ui';

export interface Lecture {
  id: number; room: string; public_url: string; title: string; centre: string; state: string; scheduled_at?: string;
  started_at?: string; ended_at?: string; speakers: string[]; created_by: string; viewers: number; peak: number;
  hls: string; archive: string; moderator: boolean;
}
interface Question { id: number; identity: string; name: string; centre: string; text: string; hand: boolean; asked_at: string; answered_at?: string }
interface Guest { id: number; name: string; identity: string; created_at: string; joined_at?: string; revoked: boolean; url?: string }
export interface AttendanceRow { centre: string; name: string; viewers: number; people: number; peak: number }

function lecState(s: string): HTMLElement {
  return h('span', { class: 'chip' + (s === 'live' ? ' live' : s === 'ended' ? '' : ' blue') }, T(('lec_state_' + s) as 'lec_state_live'));
}

export async function lecturesPage(ctx: Ctx): Promise<void> {
  const list = await get<Lecture[]>('/api/lectures');
  const title = h('input', { name: 'title', required: true, maxlength: '200' });
  const when = h('input', { name: 'scheduled_at', type: 'datetime-local', required: true, value: localInputValue(new Date(Date.now() + 3600e3).toISOString()) });
  const speakers = h('input', { name: 'speakers', value: ctx.me.username });
  const form = h(
    'form',
    {
      class: 'card form-grid',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const l = await post<Lecture>('/api/lectures', {
            title: title.value.trim(),
            scheduled_at: new Date(when.value).toISOString(),
            centre: ctx.me.centre,
            speakers: speakers.value.split(/[,，\s]+/).filter(Boolean),
          });
          ctx.go(`/console/lectures/${l.id}`);
        } catch (e) {
          toast((e as Error).message, 'error');
        }
      },
    },
    h('h2', null, icon('plus'), T('lec_new')),
    field('lec_name', title),
    field('lec_when', when),
    field('lec_speakers', speakers),
    h('button', { class: 'btn primary', type: 'submit', 'data-action': 'create-lecture' }, T('lec_create')),
  );
  const rows = list.map((l) =>
    h(
      'tr',
      { class: 'click', dataset: { lecture: String(l.id) }, onclick: () => ctx.go(`/console/lectures/${l.id}`) },
      h('td', null, l.scheduled_at ? fmtTime(l.scheduled_at) : '—'),
      h('td', null, h('a', { href: `/console/lectures/${l.id}` }, l.title)),
      h('td', null, lecState(l.state)),
      h('td', null, l.state === 'live' ? t('lec_viewers', { n: l.viewers }) : String(l.peak || '')),
    ),
  );
  mount(
    ctx.content,
    h('h1', null, icon('play'), T('lec_title')),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'list lectures' },
        h('thead', null, h('tr', null, h('th', null, T('lec_when')), h('th', null, T('lec_name')), h('th', null, T('sess_state')), h('th', null, T('lec_viewers_label')))),
        h('tbody', null, ...(rows.length ? rows : [emptyRow(4, 'lec_none')])),
      ),
    ),
    h('br'),
    form,
  );
}

export function attendanceTable(rows: AttendanceRow[]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list attendance' },
      h('thead', null, h('tr', null, h('th', null, T('lec_att_centre')), h('th', null, T('lec_att_viewers')), h('th', null, T('lec_att_people')), h('th', null, T('lec_att_peak')))),
      h(
        'tbody',
        null,
        ...(rows.length
          ? rows.map((r) => h('tr', { dataset: { centre: r.centre } }, h('td', null, r.name || r.centre || '—'), h('td', null, String(r.viewers)), h('td', null, String(r.people)), h('td', null, String(r.peak))))
          : [emptyRow(4, 'lec_att_none')]),
      ),
    ),
  );
}

export async function lecturePage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  let l = await get<Lecture>(`/api/lectures/${id}`);
  let call: Call | undefined;
  const head = h('div');
  const count = h('div', { class: 'stat', dataset: { viewers: String(l.viewers) } }, String(l.viewers));
  const peak = h('div', { class: 'stat' }, String(l.peak));
  const callBox = h('div', { class: 'lecture-call' });
  const qBox = h('div', { class: 'card questions' });
  const attBox = h('div', { class: 'card' });
  const guestBox = h('div', { class: 'card guests' });
  const stage = new Set<string>();

  const drawHead = () => {
    const actions: HTMLElement[] = [];
    if (l.moderator && l.state === 'scheduled')
      actions.push(h('button', { class: 'btn primary', 'data-action': 'start', onclick: () => void act('start') }, icon('play'), T('lec_start')));
    if (l.moderator && l.state === 'live')
      actions.push(h('button', { class: 'btn danger', 'data-action': 'end', onclick: () => confirm(t('lec_end_confirm')) && void act('end') }, icon('x'), T('lec_end')));
    mount(
      head,
      h('h1', null, icon('play'), l.title, ' ', lecState(l.state)),
      h(
        'div',
        { class: 'cards' },
        h('div', { class: 'card' }, h('div', { class: 'muted' }, T('lec_viewers_label')), count),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, T('lec_peak')), peak),
        h(
          'div',
          { class: 'card lecture-link' },
          h('div', { class: 'muted' }, T('lec_public_link')),
          h('a', { href: l.public_url, target: '_blank', class: 'public-url' }, l.public_url),
          h('div', { class: 'small muted' }, T('lec_scan')),
          qrSVG(l.public_url),
        ),
      ),
      h('div', { class: 'actions' }, ...actions),
      l.archive ? h('p', null, h('a', { class: 'btn', href: '/l/' + l.id, target: '_blank' }, icon('play'), T('lec_archive'))) : null,
    );
  };
  const act = async (what: 'start' | 'end') => {
    try {
      l = await post<Lecture>(`/api/lectures/${id}/${what}`, {});
      if (what === 'end' && call) void call.leave(false);
      drawHead();
      drawCall();
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };

  const goOnStage = async () => {
    try {
      const j = await post<{ url: string; token: string }>(`/api/lectures/${id}/join`, {});
      call = new Call({
        url: j.url,
        token: j.token,
        onEnd: () => {
          call = undefined;
          drawCall();
        },
      });
      mount(callBox, call.el);
      await call.start();
    } catch (e) {
      toast(t('connect_failed', { msg: (e as Error).message }), 'error');
      call = undefined;
      drawCall();
    }
  };
  const drawCall = () => {
    if (call) return;
    if (l.state === 'ended') {
      mount(callBox);
      return;
    }
    const people = h('input', { type: 'number', min: '1', max: '10000', value: '30', name: 'people', style: { width: '6rem' } });
    mount(
      callBox,
      h(
        'div',
        { class: 'card center join-card' },
        h('div', { class: 'hero-icon' }, icon('cam')),
        l.moderator ? h('button', { class: 'btn primary', 'data-action': 'go-on-stage', onclick: () => void goOnStage() }, icon('cam'), T('lec_join_stage')) : null,
        h(
          'div',
          { class: 'row' },
          h('label', { class: 'small' }, T('lec_people'), people),
          h(
            'button',
            {
              class: 'btn',
              'data-action': 'screen',
              onclick: async () => {
                const j = await post<{ url: string; token: string }>(`/api/lectures/${id}/join`, { screen: true, people: Number(people.value) || 1 });
                location.href = `/room?url=${encodeURIComponent(j.url)}&token=${encodeURIComponent(j.token)}`;
              },
            },
            icon('users'),
            T('lec_join_screen'),
          ),
        ),
      ),
    );
  };

  const drawQuestions = async () => {
    if (!l.moderator) {
      qBox.classList.add('hidden');
      return;
    }
    const qs = await get<Question[]>(`/api/lectures/${id}/questions`);
    const open = qs.filter((q) => !q.answered_at);
    const done = qs.filter((q) => q.answered_at);
    const row = (q: Question) =>
      h(
        'li',
        { class: 'question' + (q.answered_at ? ' answered' : ''), dataset: { question: String(q.id), identity: q.identity } },
        h(
          'div',
          null,
          q.hand ? h('span', { class: 'chip blue' }, icon('user'), T('lec_hand')) : null,
          h('strong', null, q.name || '—'),
          q.centre ? h('span', { class: 'muted small' }, ' · ', q.centre) : null,
          h('span', { class: 'muted small' }, ' · ', fmtTime(q.asked_at).slice(11, 16)),
        ),
        q.text ? h('p', null, q.text) : null,
        h(
          'div',
          { class: 'row' },
          q.answered_at
            ? h('span', { class: 'chip ok' }, icon('check'), T('lec_answered'))
            : h('button', { class: 'btn small', 'data-action': 'answered', onclick: () => void post(`/api/lectures/${id}/questions/${q.id}/answered`, {}).then(drawQuestions) }, icon('check'), T('lec_mark_answered')),
          l.state === 'live'
            ? h(
                'button',
                {
                  class: 'btn small' + (stage.has(q.identity) ? ' danger' : ''),
                  'data-action': stage.has(q.identity) ? 'stage-off' : 'stage-on',
                  onclick: async () => {
                    const on = !stage.has(q.identity);
                    try {
                      await post(`/api/lectures/${id}/stage`, { identity: q.identity, on });
                      if (on) stage.add(q.identity);
                      else stage.delete(q.identity);
                      void drawQuestions();
                    } catch (e) {
                      toast((e as Error).message, 'error');
                    }
                  },
                },
                icon(stage.has(q.identity) ? 'x' : 'mic'),
                T(stage.has(q.identity) ? 'lec_stage_off' : 'lec_stage_on'),
              )
            : null,
        ),
      );
    mount(qBox, h('h2', null, T('lec_questions'), ' ', h('span', { class: 'chip' }, String(open.length))), qs.length ? h('ul', { class: 'question-list' }, ...open.map(row), ...done.map(row)) : h('p', { class: 'muted' }, T('lec_questions_none')));
  };

  // Guest speakers: invited by name, no account; the link is shown once, when made.
  let fresh: Guest | undefined;
  const drawGuests = async () => {
    if (!l.moderator) {
      guestBox.classList.add('hidden');
      return;
    }
    const gs = await get<Guest[]>(`/api/lectures/${id}/guests`);
    const name = h('input', { name: 'guest-name', maxlength: '40', tPlaceholder: 'lec_guest_name' });
    const row = (g: Guest) =>
      h(
        'li',
        { class: 'guest', dataset: { guest: String(g.id), identity: g.identity } },
        h('strong', null, g.name),
        ' ',
        g.revoked
          ? h('span', { class: 'chip' }, T('lec_guest_revoked'))
          : h('span', { class: 'chip' + (g.joined_at ? ' ok' : '') }, T(g.joined_at ? 'lec_guest_joined' : 'lec_guest_waiting')),
        fresh?.id === g.id && fresh.url
          ? h(
              'div',
              { class: 'guest-link' },
              h('a', { href: fresh.url, target: '_blank', class: 'small', 'data-guest-url': '' }, fresh.url),
              h('button', { class: 'btn small', 'data-action': 'copy-guest', onclick: () => void copyText(fresh?.url || '') }, icon('copy'), T('lec_copy_link')),
              qrSVG(fresh.url),
            )
          : null,
        g.revoked || l.state === 'ended'
          ? null
          : h(
              'button',
              {
                class: 'btn small danger',
                'data-action': 'revoke-guest',
                onclick: async () => {
                  if (!confirm(t('lec_guest_revoke_confirm'))) return;
                  try {
                    await del(`/api/lectures/${id}/guests/${g.id}`);
                    void drawGuests();
                  } catch (e) {
                    toast((e as Error).message, 'error');
                  }
                },
              },
              icon('x'),
              T('lec_guest_revoke'),
            ),
      );
    mount(
      guestBox,
      h('h2', null, icon('star'), T('lec_guests')),
      gs.length ? h('ul', { class: 'guest-list' }, ...gs.map(row)) : h('p', { class: 'muted' }, T('lec_guest_none')),
      l.state === 'ended'
        ? null
        : h(
            'form',
            {
              class: 'row',
              onsubmit: async (ev: Event) => {
                ev.preventDefault();
                try {
                  fresh = await post<Guest>(`/api/lectures/${id}/guests`, { name: name.value.trim() });
                  void drawGuests();
                } catch (e) {
                  toast((e as Error).message, 'error');
                }
              },
            },
            name,
            h('button', { class: 'btn', type: 'submit', 'data-action': 'invite-guest' }, icon('plus'), T('lec_guest_invite')),
          ),
      h('p', { class: 'small muted' }, T('lec_guest_hint')),
    );
  };

  const drawAttendance = async () => {
    if (!l.moderator) return;
    const a = await get<{ peak: number; rows: AttendanceRow[] }>(`/api/lectures/${id}/attendance`);
    mount(attBox, h('h2', null, T('lec_attendance')), attendanceTable(a.rows));
  };

  drawHead();
  drawCall();
  mount(ctx.content, head, h('div', { class: 'live-layout' }, callBox, h('div', { class: 'panels' }, qBox, guestBox, attBox)));
  await Promise.all([drawQuestions(), drawGuests(), drawAttendance()]);
  ctx.on('lecture_question', (d) => {
    if (String(d.lecture_id) === id) void drawQuestions();
  });
  // The count and the stage are in the room metadata for whoever is in the room; the
  // console polls (a few requests a minute per moderator).
  const timer = window.setInterval(async () => {
    try {
      l = await get<Lecture>(`/api/lectures/${id}`);
      count.textContent = String(l.viewers);
      count.dataset.viewers = String(l.viewers);
      peak.textContent = String(l.peak);
      void drawAttendance();
    } catch {
      /* the next tick tries again */
    }
  }, 3000);
  ctx.onLeave(() => {
    window.clearInterval(timer);
    if (call) void call.leave(false);
  });
  ctx.onLang(() => {
    drawHead();
    void drawQuestions();
    void drawGuests();
    void drawAttendance();
  });
  void setT;
}
