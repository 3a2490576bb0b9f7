// Small console widgets: chips, selects, modals, the QR code, copy to clipboard.
import qrcode from 'qrcode-generator';
import { h, T, toast } from '../dom';
import { t, tv, type Key } from '../i18n';
import { icon } from '../icons';

export const STATUSES = ['accepted', 'assessed', 'assigned', 'mediating', 'supervised', 'closed'];
export const CATEGORIES = ['marriage_family', 'land', 'neighbours', 'labour_wages', 'contracts', 'property', 'traffic', 'medical', 'consumer', 'other'];
export const RISKS = ['red', 'yellow', 'blue'];
export const TIERS = ['city', 'township', 'village'];
export const INVITE_ROLES = ['party', 'agent', 'judge', 'lawyer', 'counsellor', 'expert', 'observer', 'interpreter'];

export function riskChip(r: string): HTMLElement {
  return h('span', { class: 'chip ' + r }, tv('grade', r));
}

export function statusChip(s: string): HTMLElement {
  return h('span', { class: 'chip' + (s === 'closed' ? ' ok' : '') }, tv('status', s));
}

export function stateChip(s: string): HTMLElement {
  return h('span', { class: 'chip' + (s === 'live' ? ' live' : s === 'ended' ? '' : ' blue') }, tv('sess_state', s));
}

/** A select over domain values, labelled through the dictionary (prefix_value). */
export function valueSelect(name: string, prefix: string, values: string[], current = '', withAll?: Key): HTMLSelectElement {
  const opts = values.map((v) => h('option', { value: v, selected: v === current }, tv(prefix, v)));
  if (withAll) opts.unshift(h('option', { value: '', selected: current === '' }, t(withAll)));
  return h('select', { name }, ...opts);
}

export function field(label: Key, input: HTMLElement): HTMLElement {
  return h('label', null, T(label), input);
}

/** A modal dialog; returns a close function. */
export function modal(title: Node | string, body: HTMLElement, actions: HTMLElement[] = []): () => void {
  const close = () => back.remove();
  const back = h(
    'div',
    { class: 'modal-back', onclick: (e: Event) => e.target === back && close() },
    h(
      'div',
      { class: 'modal', role: 'dialog', 'aria-modal': 'true' },
      h('div', { class: 'row between' }, h('h2', null, title), h('button', { class: 'btn ghost small', onclick: close, tAria: 'close' }, icon('x'))),
      body,
      h('div', { class: 'actions end' }, ...actions),
    ),
  );
  document.body.appendChild(back);
  return close;
}

export function qrSVG(text: string): HTMLElement {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const box = h('div', { class: 'qr' });
  box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
  return box;
}

export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { style: { position: 'fixed', opacity: '0' } }, text);
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast(t('copied'));
}

export function showQR(title: string, url: string): void {
  modal(
    title,
    h('div', { class: 'center' }, qrSVG(url), h('div', { class: 'mono small' }, url)),
    [h('button', { class: 'btn', onclick: () => void copyText(url) }, icon('copy'), T('inv_copy'))],
  );
}

/** "3 min" style relative wait for the lobby. */
export function waitText(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return m > 0 ? `${m}:${String(s).padStart(2, '0')}` : `0:${String(s).padStart(2, '0')}`;
}

export function roleText(role: string, side?: string): string {
  const r = role === 'party' && side ? tv('role', side) : tv('role', role);
  return side && role !== 'party' ? `${r} · ${tv('side', side)}` : r;
}

export function emptyRow(cols: number, key: Key): HTMLElement {
  return h('tr', null, h('td', { colspan: String(cols), class: 'muted center' }, T(key)));
}

/** Local date-time value for <input type=datetime-local> from an ISO time (or now + 1h). */
export function localInputValue(iso?: string): string {
  const d = iso ? new Date(iso) : new Date(Date.now() + 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
