// /room: a minimal room page. ?url=&token= joins directly; ?room=&identity=[&name=]
// fetches a token from the dev server's /dev/token first.
import { h, T, mount, toast } from './dom';
import { t } from './i18n';
import { Call } from './call';
import { header, errorBox, spinner } from './shell';
import { icon } from './icons';

export function defaultWsURL(): string {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
}

export async function roomPage(root: HTMLElement): Promise<void> {
  const q = new URLSearchParams(location.search);
  let url = q.get('url') || '';
  let token = q.get('token') || '';
  const roomName = q.get('room') || '';
  const identity = q.get('identity') || '';
  const name = q.get('name') || identity;
  const main = h('main', { class: 'page page-call' });
  mount(root, header(), main);

  if (!token && !(roomName && identity)) {
    const rIn = h('input', { name: 'room', value: roomName || 'demo', required: true });
    const iIn = h('input', { name: 'identity', value: identity || 'user-' + Math.random().toString(36).slice(2, 6), required: true });
    const nIn = h('input', { name: 'name', value: name });
    mount(
      main,
      h(
        'form',
        { class: 'card narrow', method: 'get', action: '/room' },
        h('h1', null, T('room_join')),
        h('p', { class: 'muted' }, T('room_missing')),
        h('label', null, T('room_name'), rIn),
        h('label', null, T('room_identity'), iIn),
        h('label', null, T('room_display'), nIn),
        h('button', { class: 'btn primary', type: 'submit' }, T('room_join')),
      ),
    );
    return;
  }

  mount(main, spinner());
  const devToken = async () => {
    const u = `/dev/token?room=${encodeURIComponent(roomName)}&identity=${encodeURIComponent(identity)}&name=${encodeURIComponent(name)}`;
    const res = await fetch(u);
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    const j = (await res.json()) as { url?: string; token: string };
    return { url: j.url || url || defaultWsURL(), token: j.token };
  };
  const fromDev = !token;
  if (!token) {
    try {
      const j = await devToken();
      token = j.token;
      if (!url) url = j.url;
    } catch (e) {
      mount(main, errorBox(t('dev_token_failed', { msg: (e as Error).message }), () => void roomPage(root)));
      return;
    }
  }
  if (!url) url = defaultWsURL();

  const call = new Call({
    url,
    token,
    rejoin: fromDev ? devToken : undefined,
    onEnd: (reason) => {
      mount(
        main,
        h(
          'div',
          { class: 'card narrow center ended', dataset: { reason: String(reason ?? '') } },
          icon('door'),
          h('h2', null, T(reason === 4 ? 'removed' : reason === 5 || reason === 10 ? 'room_ended' : 'left_title')),
          h('button', { class: 'btn primary', onclick: () => void roomPage(root) }, T('rejoin')),
        ),
      );
    },
  });
  mount(main, call.el);
  try {
    await call.start();
  } catch (e) {
    toast(t('connect_failed', { msg: (e as Error).message }), 'error');
    mount(main, errorBox(t('connect_failed', { msg: (e as Error).message }), () => void roomPage(root)));
  }
}
