// Entry: pick the page from the path. /room, /j/<code>, /console/..., / (home).
import './style.css';
import { h, T, mount } from './dom';
import { getLang, setLang, t } from './i18n';
import { header } from './shell';
import { icon } from './icons';

async function route(): Promise<void> {
  const root = document.getElementById('app')!;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/room') {
    const { roomPage } = await import('./room');
    return roomPage(root);
  }
  if (path.startsWith('/j/') && path.endsWith('/documents')) {
    const { partyDocsPage } = await import('./docs');
    return partyDocsPage(root, decodeURIComponent(path.slice(3, -'/documents'.length)));
  }
  if (path.startsWith('/j/')) {
    const { partyPage } = await import('./party');
    return partyPage(root, decodeURIComponent(path.slice(3)));
  }
  if (path.startsWith('/l/')) {
    const { lecturePage } = await import('./lecture');
    return lecturePage(root, decodeURIComponent(path.slice(3)));
  }
  if (path === '/console' || path.startsWith('/console/')) {
    const { consolePage } = await import('./console/console');
    return consolePage(root);
  }
  if (path === '/') {
    mount(
      root,
      header(),
      h(
        'main',
        { class: 'page home' },
        h(
          'div',
          { class: 'card narrow center' },
          h('div', { class: 'hero-icon' }, icon('users')),
          h('h1', null, T('home_title')),
          h('p', { class: 'muted' }, T('home_party')),
          h('a', { class: 'btn primary', href: '/console' }, icon('user'), T('home_console')),
        ),
      ),
    );
    return;
  }
  mount(root, header(), h('main', { class: 'page' }, h('div', { class: 'card narrow center' }, h('h1', null, T('not_found')), h('a', { class: 'btn', href: '/' }, icon('home')))));
}

setLang(getLang());
document.title = t('app_name');
void route();
