// Small DOM helpers: h() builds elements, T() builds a translated text node
// that follows the language toggle.
import { t, type Key } from './i18n';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      } else if (k === 'class') {
        el.className = String(v);
      } else if (k === 'style' && typeof v === 'object') {
        Object.assign(el.style, v);
      } else if (k === 'dataset' && typeof v === 'object') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected' || k === 'muted' || k === 'autoplay' || k === 'playsInline') {
        (el as unknown as Record<string, unknown>)[k] = v;
      } else if (k === 'tPlaceholder' || k === 'tTitle' || k === 'tAria') {
        const attr = k === 'tPlaceholder' ? 'placeholder' : k === 'tTitle' ? 'title' : 'aria-label';
        el.dataset[k] = String(v);
        el.setAttribute(attr, t(v as Key));
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** A span whose text is the translation of key, updated when the language changes. */
export function T(key: Key, params?: Record<string, string | number>): HTMLSpanElement {
  const s = document.createElement('span');
  s.dataset.t = key;
  if (params) s.dataset.p = JSON.stringify(params);
  s.textContent = t(key, params);
  return s;
}

/** Update a T() span in place with new params (or a new key). */
export function setT(s: HTMLElement, key: Key, params?: Record<string, string | number>): void {
  s.dataset.t = key;
  if (params) s.dataset.p = JSON.stringify(params);
  else delete s.dataset.p;
  s.textContent = t(key, params);
}

/** Re-translate everything under root (after a language switch). */
export function retranslate(root: ParentNode = document): void {
  root.querySelectorAll<HTMLElement>('[data-t]').forEach((el) => {
    const p = el.dataset.p ? JSON.parse(el.dataset.p) : undefined;
    el.textContent = t(el.dataset.t as Key, p);
  });
  for (const [k, attr] of [['tPlaceholder', 'placeholder'], ['tTitle', 'title'], ['tAria', 'aria-label']] as const) {
    root.querySelectorAll<HTMLElement>(`[data-${k.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())}]`).forEach((el) => {
      el.setAttribute(attr, t(el.dataset[k] as Key));
    });
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function mount(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}

/** mm:ss or h:mm:ss for an elapsed time in milliseconds. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${p(mm)}:${p(ss)}` : `${p(mm)}:${p(ss)}`;
}

export function fmtTime(iso: string | number | Date | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtClock(iso: string | number | Date | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}`;
}

let toastBox: HTMLElement | null = null;
/** A short message at the bottom of the screen. */
export function toast(msg: string, kind: 'info' | 'error' = 'info', action?: { label: string; href: string }): void {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastBox);
  }
  const el = h('div', { class: 'toast ' + kind }, msg, action ? [' ', h('a', { href: action.href, class: 'toast-action', onclick: () => setTimeout(() => el.remove(), 0) }, action.label)] : null);
  toastBox.appendChild(el);
  setTimeout(() => el.remove(), action ? 30000 : kind === 'error' ? 6000 : 3000);
}
