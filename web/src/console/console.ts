// /console: staff sign-in, then a small client-side router over the staff pages.
import { get, post, ApiError, type Staff } from '../api';
import { h, T, mount, toast } from '../dom';
import { icon, type IconName } from '../icons';
import { onLang, t, type Key } from '../i18n';
import { header, errorBox, spinner } from '../shell';
import { playTestSound } from '../levels';

export type Listener = (data: Record<string, unknown>) => void;

/** What a console page gets: who is signed in, where to draw, navigation and server events. */
export interface Ctx {
  me: Staff;
  content: HTMLElement;
  go(path: string): void;
  on(event: string, f: Listener): void; // removed automatically when the page changes
  onLeave(f: () => void): void;
  /** Redraw after a language switch; without it the page is rendered anew. */
  onLang(f: () => void): void;
  params: string[];
  query: URLSearchParams;
}

interface Route {
  re: RegExp;
  nav?: string;
  load: () => Promise<(ctx: Ctx) => void | Promise<void>>;
}

const routes: Route[] = [
  { re: /^\/console\/?$/, nav: 'today', load: async () => (await import('./today')).todayPage },
  { re: /^\/console\/cases\/?$/, nav: 'cases', load: async () => (await import('./cases')).casesPage },
  { re: /^\/console\/cases\/new$/, nav: 'new', load: async () => (await import('./cases')).newCasePage },
  { re: /^\/console\/cases\/(\d+)$/, nav: 'cases', load: async () => (await import('./cases')).casePage },
  { re: /^\/console\/sessions\/(\d+)$/, nav: 'today', load: async () => (await import('./session')).sessionPage },
  { re: /^\/console\/sessions\/(\d+)\/file$/, nav: 'cases', load: async () => (await import('./casefile')).caseFilePage },
  { re: /^\/console\/dashboard$/, nav: 'dashboard', load: async () => (await import('./dashboard')).dashboardPage },
  { re: /^\/console\/directory$/, nav: 'directory', load: async () => (await import('./dashboard')).directoryPage },
  { re: /^\/console\/documents\/new$/, nav: 'cases', load: async () => (await import('./documents')).newDocumentPage },
  { re: /^\/console\/documents\/(\d+)$/, nav: 'cases', load: async () => (await import('./documents')).documentPage },
  { re: /^\/console\/templates$/, nav: 'templates', load: async () => (await import('./templates')).templatesPage },
  { re: /^\/console\/confirmations\/?$/, nav: 'confirmations', load: async () => (await import('./confirmations')).queuePage },
  { re: /^\/console\/confirmations\/(\d+)$/, nav: 'confirmations', load: async () => (await import('./confirmations')).confirmationPage },
  { re: /^\/console\/lectures\/?$/, nav: 'lectures', load: async () => (await import('./lectures')).lecturesPage },
  { re: /^\/console\/lectures\/(\d+)$/, nav: 'lectures', load: async () => (await import('./lectures')).lecturePage },
];

const NAV: [string, string, IconName, Key][] = [
  ['today', '/console', 'calendar', 'nav_today'],
  ['cases', '/console/cases', 'folder', 'nav_cases'],
  ['new', '/console/cases/new', 'plus', 'nav_new_case'],
  ['lectures', '/console/lectures', 'play', 'nav_lectures'],
  ['dashboard', '/console/dashboard', 'chart', 'nav_dashboard'],
  ['directory', '/console/directory', 'users', 'nav_directory'],
  ['confirmations', '/console/confirmations', 'shield', 'nav_confirmations'], // judges only, see shell
  ['templates', '/console/templates', 'folder', 'tpl_title'], // admins only
];

export async function consolePage(root: HTMLElement): Promise<void> {
  mount(root, header(), h('main', { class: 'page' }, spinner()));
  let me: Staff;
  try {
    me = await get<Staff>('/api/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return loginPage(root);
    mount(root, header(), h('main', { class: 'page' }, errorBox((e as Error).message, () => void consolePage(root))));
    return;
  }
  shell(root, me);
}

function loginPage(root: HTMLElement): void {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('div', { class: 'check-line bad hidden' });
  const form = h(
    'form',
    {
      class: 'card narrow login',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        err.classList.add('hidden');
        try {
          await post<Staff>('/api/login', { username: user.value.trim(), password: pass.value });
          await consolePage(root);
        } catch (e) {
          err.classList.remove('hidden');
          err.replaceChildren(icon('alert'), e instanceof ApiError && e.code === 'bad_credentials' ? T('login_failed') : (e as Error).message);
        }
      },
    },
    h('h1', null, icon('user'), ' ', T('login_title')),
    h('label', null, T('login_user'), user),
    h('label', null, T('login_password'), pass),
    err,
    h('button', { class: 'btn primary block', type: 'submit', 'data-action': 'login' }, T('login_submit')),
  );
  mount(root, header(), h('main', { class: 'page' }, form));
}

function shell(root: HTMLElement, me: Staff): void {
  const content = h('section', { class: 'content' });
  const only: Record<string, string> = { confirmations: 'judge', templates: 'admin' };
  const links = NAV.filter(([id]) => !only[id] || me.roles.includes(only[id])).map(([id, href, ic, key]) => h('a', { href, dataset: { nav: id } }, icon(ic), T(key)));
  const logout = h(
    'button',
    {
      class: 'btn ghost small',
      onclick: async () => {
        await post('/api/logout').catch(() => undefined);
        location.href = '/console';
      },
    },
    icon('logout'),
    h('span', { class: 'hide-sm' }, T('logout')),
  );
  const nav = h(
    'nav',
    { class: 'sidenav' },
    h('div', { class: 'who' }, h('strong', null, me.name), me.gold ? h('span', { class: 'chip gold' }, icon('star'), T('dir_gold')) : null, h('div', null, me.centre_name || me.centre)),
    ...links,
  );
  mount(root, header(h('span', { class: 'me-name hide-sm' }, me.name), logout), h('div', { class: 'console' }, nav, content));

  // server events: one stream for the console, listeners per page
  const listeners = new Map<string, Set<Listener>>();
  let es: EventSource | null = null;
  const connect = () => {
    es = new EventSource('/api/events');
    for (const ev of ['knock', 'live', 'session', 'invited', 'case', 'recording', 'document', 'confirmation', 'lecture_question']) {
      es.addEventListener(ev, (m) => {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse((m as MessageEvent).data);
        } catch {
          /* ignore */
        }
        if (ev === 'knock') {
          // arrival itself knocks: a toast and a soft chime, so nobody has to watch the list
          toast(`${t('live_lobby')}: ${String(data.name ?? '')}`);
          void playTestSound().catch(() => undefined);
        }
        if (ev === 'invited') {
          toast(t('invited_to', { title: String(data.title ?? ''), by: String(data.by ?? '') }), 'info', { label: t('enter_session'), href: `/console/sessions/${String(data.session_id)}` });
          void playTestSound().catch(() => undefined);
        }
        listeners.get(ev)?.forEach((f) => f(data));
      });
    }
  };
  connect();

  let leaveFns: (() => void)[] = [];
  let pageListeners: [string, Listener][] = [];
  let langFn: (() => void) | null = null;
  onLang(() => (langFn ? langFn() : void render()));
  const render = async () => {
    leaveFns.forEach((f) => f());
    leaveFns = [];
    langFn = null;
    pageListeners.forEach(([e, f]) => listeners.get(e)?.delete(f));
    pageListeners = [];
    const path = location.pathname.replace(/\/+$/, '') || '/console';
    const r = routes.find((x) => x.re.test(path));
    links.forEach((a) => a.classList.toggle('cur', !!r && a.dataset.nav === r.nav));
    if (!r) {
      mount(content, h('h1', null, T('not_found')));
      return;
    }
    mount(content, spinner());
    const ctx: Ctx = {
      me,
      content,
      go,
      params: path.match(r.re)!.slice(1),
      query: new URLSearchParams(location.search),
      on: (e, f) => {
        if (!listeners.has(e)) listeners.set(e, new Set());
        listeners.get(e)!.add(f);
        pageListeners.push([e, f]);
      },
      onLeave: (f) => leaveFns.push(f),
      onLang: (f) => (langFn = f),
    };
    try {
      const page = await r.load();
      await page(ctx);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return loginPage(root);
      mount(content, errorBox((e as Error).message, () => void render()));
    }
  };
  const go = (p: string) => {
    if (p !== location.pathname + location.search) history.pushState(null, '', p);
    void render();
  };
  document.addEventListener('click', (e) => {
    const a = (e.target as HTMLElement).closest('a');
    if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const href = a.getAttribute('href');
    if (href && href.startsWith('/console')) {
      e.preventDefault();
      go(href);
    }
  });
  window.addEventListener('popstate', () => void render());
  window.addEventListener('beforeunload', () => es?.close());
  void render();
}
