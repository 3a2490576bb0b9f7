// The citizen's side (issue 11), phone-first: /q/<centre> (the 百姓解事码 page: a request
// with photos, a video call into the centre's duty queue, a booking of a leader's slot),
// /q/<centre>/poster (the printable poster with the QR code) and /t/<code> (progress in
// plain words, and the rating once resolved). No account.
import { get, post, ApiError } from './api';
import { h, T, fmtTime, mount } from './dom';
import { t, tv, type Key } from './i18n';
import { icon } from './icons';
import { header, errorBox, spinner } from './shell';

export interface PublicCentre {
  code: string; name: string; tier: string; parent_name: string; boards: string[]; categories: string[]; slots: number; url: string;
}
interface Slot { id: number; leader_name: string; starts_at: string; ends_at: string; free: number }
interface Tracking {
  tracking_code: string; number: string; centre_name: string; board: string; category: string; channel: string; title: string;
  submitted_at: string; stage: string; steps: { stage: string; at: string; to?: string }[]; session_at: string | null; join_url: string;
  closed: boolean; outcome: string; can_rate: boolean; satisfaction: number; comment: string;
}

function page(root: HTMLElement, ...body: (Node | null)[]): HTMLElement {
  const main = h('main', { class: 'page public' }, ...body);
  mount(root, header(), main);
  return main;
}

function fail(main: HTMLElement, e: unknown, retry: () => void): void {
  if (e instanceof ApiError && e.status === 404) {
    mount(main, h('div', { class: 'card narrow center' }, h('div', { class: 'hero-icon' }, icon('alert')), h('h1', null, T('pub_not_found'))));
    return;
  }
  mount(main, errorBox(e instanceof ApiError && e.status === 429 ? t('pub_too_many') : (e as Error).message, retry));
}

function errLine(): HTMLElement {
  return h('div', { class: 'check-line bad hidden', role: 'alert' });
}

function showErr(el: HTMLElement, e: unknown): void {
  el.classList.remove('hidden');
  el.replaceChildren(icon('alert'), e instanceof ApiError && e.status === 429 ? t('pub_too_many') : (e as Error).message);
}

function label(key: Key, input: HTMLElement, required = false): HTMLElement {
  return h('label', { class: 'field' }, h('span', null, T(key), required ? ' *' : ''), input);
}

export async function centrePage(root: HTMLElement, code: string): Promise<void> {
  const main = page(root, h('div', { class: 'card narrow' }, spinner()));
  let c: PublicCentre;
  try {
    c = await get<PublicCentre>(`/api/public/centres/${encodeURIComponent(code)}`);
  } catch (e) {
    return fail(main, e, () => void centrePage(root, code));
  }
  document.title = c.name;
  const choose = () =>
    mount(
      main,
      h(
        'div',
        { class: 'card narrow pub-home' },
        h('h1', null, c.name),
        h('p', { class: 'muted' }, T('pub_intro')),
        h('button', { class: 'btn primary big', dataset: { action: 'pub-request' }, onclick: () => requestForm(main, c, choose) }, icon('folder'), T('pub_request')),
        h('button', { class: 'btn big', dataset: { action: 'pub-call' }, onclick: () => callForm(main, c, choose) }, icon('cam'), T('pub_call')),
        h('button', { class: 'btn big', dataset: { action: 'pub-book' }, onclick: () => void bookForm(main, c, choose) }, icon('calendar'), T('pub_book'), c.slots ? ` (${c.slots})` : ''),
        h('form', { class: 'pub-track', onsubmit: (ev: Event) => { ev.preventDefault(); const v = (ev.target as HTMLFormElement).querySelector('input')!.value.trim(); if (v) location.href = '/t/' + encodeURIComponent(v.toUpperCase()); } },
          h('input', { name: 'track', tPlaceholder: 'pub_track_code', autocomplete: 'off' }), h('button', { class: 'btn' }, T('pub_track'))),
      ),
    );
  choose();
}

/** A photo the phone took, shrunk to 1600 px and re-encoded as JPEG (no EXIF leaves the phone). */
async function shrink(file: File): Promise<string> {
  const url = URL.createObjectURL(file);
  try {
    const img = await new Promise<HTMLImageElement>((ok, bad) => {
      const i = new Image();
      i.onload = () => ok(i);
      i.onerror = () => bad(new Error(t('pub_photo_bad')));
      i.src = url;
    });
    const k = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
    const cv = document.createElement('canvas');
    cv.width = Math.round(img.naturalWidth * k);
    cv.height = Math.round(img.naturalHeight * k);
    cv.getContext('2d')!.drawImage(img, 0, 0, cv.width, cv.height);
    return cv.toDataURL('image/jpeg', 0.85);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function back(onBack: () => void): HTMLElement {
  return h('button', { type: 'button', class: 'btn link', onclick: onBack }, '‹ ', T('pub_back'));
}

function requestForm(main: HTMLElement, c: PublicCentre, onBack: () => void): void {
  const board = h('select', { name: 'board', required: true }, ...c.boards.map((b) => h('option', { value: b }, tv('board', b))));
  const category = h('select', { name: 'category' }, ...c.categories.map((x) => h('option', { value: x }, tv('cat', x))));
  const catField = label('pub_category', category);
  board.addEventListener('change', () => catField.classList.toggle('hidden', board.value !== 'dispute'));
  const desc = h('textarea', { name: 'description', rows: 5, required: true, maxlength: 5000 });
  const name = h('input', { name: 'name', required: true, maxlength: 40, autocomplete: 'name' });
  const phone = h('input', { name: 'phone', type: 'tel', required: true, autocomplete: 'tel', inputmode: 'tel' });
  const address = h('input', { name: 'address', maxlength: 200 });
  const photos: string[] = [];
  const thumbs = h('div', { class: 'pub-thumbs' });
  const file = h('input', { name: 'photos', type: 'file', accept: 'image/jpeg,image/png', multiple: true });
  const err = errLine();
  file.addEventListener('change', async () => {
    for (const f of Array.from(file.files ?? [])) {
      if (photos.length >= 5) break;
      try {
        const d = await shrink(f);
        photos.push(d);
        thumbs.appendChild(h('img', { src: d, alt: '' }));
      } catch (e) {
        showErr(err, e);
      }
    }
    file.value = '';
    thumbs.dataset.count = String(photos.length);
  });
  const agree = h('input', { type: 'checkbox', name: 'consent' });
  const submit = h('button', { class: 'btn primary big', type: 'submit', dataset: { action: 'pub-send' }, disabled: true }, T('pub_send'));
  agree.addEventListener('change', () => (submit.disabled = !agree.checked));
  const form = h(
    'form',
    {
      class: 'card narrow pub-form',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        err.classList.add('hidden');
        submit.disabled = true;
        try {
          const r = await post<{ tracking_code: string; url: string }>('/api/public/requests', {
            centre: c.code, board: board.value, category: board.value === 'dispute' ? category.value : undefined, name: name.value.trim(),
            phone: phone.value.trim(), address: address.value.trim() || undefined, description: desc.value.trim(), photos, consent: true,
          });
          done(main, r.tracking_code, 'pub_sent');
        } catch (e) {
          showErr(err, e);
          submit.disabled = !agree.checked;
        }
      },
    },
    back(onBack),
    h('h2', null, T('pub_request')),
    label('pub_board', board, true),
    catField,
    label('pub_description', desc, true),
    label('pub_name', name, true),
    label('pub_phone', phone, true),
    label('pub_address', address),
    label('pub_photos', file),
    thumbs,
    h('p', { class: 'small muted pub-notice' }, T('pub_privacy')),
    h('label', { class: 'check' }, agree, T('pub_privacy_ok')),
    err,
    submit,
  );
  mount(main, form);
}

function done(main: HTMLElement, code: string, title: Key): void {
  mount(
    main,
    h(
      'div',
      { class: 'card narrow center pub-done' },
      h('div', { class: 'hero-icon' }, icon('check')),
      h('h1', null, T(title)),
      h('p', null, T('pub_your_code')),
      h('div', { class: 'pub-code mono', dataset: { code } }, code),
      h('p', { class: 'small muted' }, T('pub_keep_code')),
      h('a', { class: 'btn primary', href: '/t/' + code }, T('pub_track')),
    ),
  );
}

function callForm(main: HTMLElement, c: PublicCentre, onBack: () => void): void {
  const name = h('input', { name: 'name', required: true, maxlength: 40 });
  const phone = h('input', { name: 'phone', type: 'tel', inputmode: 'tel' });
  const err = errLine();
  mount(
    main,
    h(
      'form',
      {
        class: 'card narrow pub-form',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          err.classList.add('hidden');
          try {
            const r = await post<{ ticket: string }>(`/api/public/centres/${encodeURIComponent(c.code)}/call`, { name: name.value.trim(), phone: phone.value.trim() });
            location.href = '/j/' + encodeURIComponent(r.ticket); // the party page: devices, notice, the lobby
          } catch (e) {
            showErr(err, e);
          }
        },
      },
      back(onBack),
      h('h2', null, T('pub_call')),
      h('p', { class: 'muted' }, T('pub_call_intro')),
      label('pub_name', name, true),
      label('pub_phone', phone),
      err,
      h('button', { class: 'btn primary big', type: 'submit', dataset: { action: 'pub-call-start' } }, icon('cam'), T('pub_call_start')),
    ),
  );
}

async function bookForm(main: HTMLElement, c: PublicCentre, onBack: () => void): Promise<void> {
  let slots: Slot[];
  try {
    ({ slots } = await get<{ slots: Slot[] }>(`/api/public/centres/${encodeURIComponent(c.code)}/slots`));
  } catch (e) {
    return fail(main, e, () => void bookForm(main, c, onBack));
  }
  if (!slots.length) {
    mount(main, h('div', { class: 'card narrow' }, back(onBack), h('h2', null, T('pub_book')), h('p', { class: 'muted pub-no-slots' }, T('pub_no_slots'))));
    return;
  }
  const pick = h('div', { class: 'pub-slots' }, ...slots.map((s, i) =>
    h('label', { class: 'check pub-slot' }, h('input', { type: 'radio', name: 'slot', value: String(s.id), checked: i === 0 }),
      h('span', null, `${fmtTime(s.starts_at)} · ${s.leader_name} · `, T('pub_free', { n: s.free })))));
  const name = h('input', { name: 'name', required: true, maxlength: 40 });
  const phone = h('input', { name: 'phone', type: 'tel', required: true, inputmode: 'tel' });
  const topic = h('textarea', { name: 'topic', rows: 3, required: true, maxlength: 2000 });
  const err = errLine();
  mount(
    main,
    h(
      'form',
      {
        class: 'card narrow pub-form',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          err.classList.add('hidden');
          const slot = Number((pick.querySelector('input:checked') as HTMLInputElement | null)?.value ?? 0);
          try {
            const r = await post<{ tracking_code: string }>(`/api/public/centres/${encodeURIComponent(c.code)}/bookings`, { slot, name: name.value.trim(), phone: phone.value.trim(), topic: topic.value.trim() });
            done(main, r.tracking_code, 'pub_booked');
          } catch (e) {
            showErr(err, e);
          }
        },
      },
      back(onBack),
      h('h2', null, T('pub_book')),
      pick,
      label('pub_name', name, true),
      label('pub_phone', phone, true),
      label('pub_topic', topic, true),
      err,
      h('button', { class: 'btn primary big', type: 'submit', dataset: { action: 'pub-book-send' } }, T('pub_book_send')),
    ),
  );
}

export async function posterPage(root: HTMLElement, code: string): Promise<void> {
  const main = page(root, spinner());
  try {
    const c = await get<PublicCentre>(`/api/public/centres/${encodeURIComponent(code)}`);
    document.title = c.name;
    mount(
      main,
      h('div', { class: 'poster' },
        h('h1', null, T('pub_poster_title')),
        h('h2', null, c.name),
        h('img', { class: 'poster-qr', src: `/api/centres/${encodeURIComponent(c.code)}/qr.svg`, alt: c.url }),
        h('p', { class: 'poster-ways' }, T('pub_poster_ways')),
        h('p', { class: 'small mono' }, c.url),
        h('button', { class: 'btn no-print', onclick: () => window.print() }, T('pub_print'))),
    );
  } catch (e) {
    fail(main, e, () => void posterPage(root, code));
  }
}

export async function trackPage(root: HTMLElement, code: string): Promise<void> {
  const main = page(root, h('div', { class: 'card narrow' }, spinner()));
  let tr: Tracking;
  try {
    tr = await get<Tracking>(`/api/public/requests/${encodeURIComponent(code)}`);
  } catch (e) {
    return fail(main, e, () => void trackPage(root, code));
  }
  const steps = h('ol', { class: 'pub-steps' }, ...tr.steps.map((s) =>
    h('li', { dataset: { stage: s.stage } }, h('strong', null, T(('track_' + s.stage) as Key, { to: s.to ?? '' })), h('span', { class: 'small muted' }, ' ', fmtTime(s.at)))));
  const parts: (Node | null)[] = [
    h('h1', null, T(('track_now_' + tr.stage) as Key)),
    h('p', { class: 'muted' }, tr.centre_name, ' · ', tv('board', tr.board), ' · ', h('span', { class: 'mono' }, tr.tracking_code)),
    h('p', null, tr.title),
    steps,
  ];
  if (tr.session_at) parts.push(h('p', { class: 'pub-session' }, T('track_session_at', { at: fmtTime(tr.session_at) })));
  if (tr.join_url) parts.push(h('a', { class: 'btn primary big', href: tr.join_url, dataset: { action: 'pub-join' } }, icon('cam'), T('track_join')));
  if (tr.closed && tr.outcome) parts.push(h('div', { class: 'pub-outcome' }, h('h3', null, T('track_outcome')), h('p', null, tr.outcome)));
  if (tr.satisfaction) parts.push(h('p', { class: 'pub-rated' }, T('track_rated', { n: tr.satisfaction })));
  if (tr.can_rate) parts.push(rateForm(tr, () => void trackPage(root, code)));
  mount(main, h('div', { class: 'card narrow pub-track-page', dataset: { stage: tr.stage } }, ...parts));
}

function rateForm(tr: Tracking, after: () => void): HTMLElement {
  let score = 0;
  const stars = h('div', { class: 'pub-stars' }, ...[1, 2, 3, 4, 5].map((n) =>
    h('button', { type: 'button', class: 'star', dataset: { score: String(n) }, onclick: () => { score = n; stars.querySelectorAll('.star').forEach((b, i) => b.classList.toggle('on', i < n)); } }, '★')));
  const comment = h('textarea', { name: 'comment', rows: 3, maxlength: 2000 });
  const err = errLine();
  return h(
    'form',
    {
      class: 'pub-rate',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        if (!score) return showErr(err, new Error(t('track_pick_score')));
        try {
          await post(`/api/public/requests/${encodeURIComponent(tr.tracking_code)}/feedback`, { satisfaction: score, comment: comment.value.trim() });
          after();
        } catch (e) {
          showErr(err, e);
        }
      },
    },
    h('h3', null, T('track_rate')),
    stars,
    label('track_comment', comment),
    err,
    h('button', { class: 'btn primary', type: 'submit', dataset: { action: 'pub-rate' } }, T('track_rate_send')),
  );
}
