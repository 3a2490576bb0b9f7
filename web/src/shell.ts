// The page frame: a header with the app name and the language toggle.
import { h, T, retranslate } from './dom';
import { getLang, setLang, t } from './i18n';
import { icon } from './icons';

export function langToggle(): HTMLButtonElement {
  const b = h(
    'button',
    {
      class: 'btn ghost lang',
      type: 'button',
      onclick: () => {
        setLang(getLang() === 'zh' ? 'en' : 'zh');
        retranslate();
        document.title = t('app_name');
      },
    },
    icon('globe'),
    T('lang_toggle'),
  );
  return b;
}

export function header(...right: (Node | null)[]): HTMLElement {
  return h(
    'header',
    { class: 'appbar' },
    h('a', { class: 'brand', href: '/' }, h('span', { class: 'logo' }, '调'), h('span', { class: 'brand-text' }, T('app_name'))),
    h('div', { class: 'appbar-right' }, ...right, langToggle()),
  );
}

export function errorBox(msg: string, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'card error-card' },
    h('div', { class: 'error-title' }, icon('alert'), T('error')),
    h('p', null, msg),
    retry ? h('button', { class: 'btn', onclick: retry }, T('retry')) : null,
  );
}

export function spinner(): HTMLElement {
  return h('div', { class: 'spinner-wrap' }, h('div', { class: 'spinner' }), T('loading'));
}
