// /j/<code>: a party (no account) joins by link. Details and name -> device check ->
// recording and confidentiality notice (consent or decline) -> lobby -> session.
import { DisconnectReason } from 'livekit-client';
import { get, post, ApiError, type Join, type JoinInfo } from './api';
import { Call } from './call';
import { deviceCheck, type DeviceChoice } from './devicecheck';
import { docsDrawer } from './docs';
import { h, T, fmtTime, mount, toast } from './dom';
import { icon } from './icons';
import { getLang, t, tv, type Key } from './i18n';
import { header, errorBox, spinner } from './shell';

type Step = 'name' | 'devices' | 'consent' | 'lobby';
const STEPS: [Step, Key][] = [
  ['name', 'steps_name'],
  ['devices', 'steps_devices'],
  ['consent', 'steps_consent'],
  ['lobby', 'steps_session'],
];

function steps(cur: Step): HTMLElement {
  const i = STEPS.findIndex(([s]) => s === cur);
  return h('ol', { class: 'steps' }, ...STEPS.map(([s, k], j) => h('li', { class: j < i ? 'done' : j === i ? 'cur' : '', dataset: { step: s } }, T(k))));
}

function inviterOf(info: JoinInfo): string {
  if (info.invited_by) return info.invited_by;
  if (typeof info.inviter === 'string') return info.inviter;
  return info.inviter?.name || info.inviter?.username || '';
}

export async function partyPage(root: HTMLElement, code: string): Promise<void> {
  const main = h('main', { class: 'page party' });
  mount(root, header(), main);
  mount(main, h('div', { class: 'card narrow' }, spinner()));

  let info: JoinInfo;
  try {
    info = await get<JoinInfo>(`/api/join/${encodeURIComponent(code)}`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.code === 'invitation_invalid')) {
      mount(
        main,
        h('div', { class: 'card narrow center invite-invalid' }, h('div', { class: 'hero-icon' }, icon('alert')), h('h1', null, T('invite_invalid')), h('p', { class: 'muted' }, T('invite_invalid_body'))),
      );
    } else {
      mount(main, errorBox((e as Error).message, () => void partyPage(root, code)));
    }
    return;
  }

  if (info.session.state === 'ended') {
    mount(
      main,
      h(
        'div',
        { class: 'card narrow center ended' },
        icon('door'),
        h('h2', null, T('room_ended')),
        h('p', { class: 'muted' }, info.session.title, info.centre ? ' · ' + info.centre.name : ''),
        h('a', { class: 'btn primary', href: `/j/${encodeURIComponent(code)}/documents`, 'data-action': 'my-documents' }, icon('folder'), T('doc_my_docs')),
      ),
    );
    return;
  }
  const reception = info.session.kind === 'reception';
  let name = info.name || '';
  let note = '';
  let choice: DeviceChoice | undefined;
  let lastBody: Record<string, unknown> = {};

  // 1. who invites me to what; my name
  const showDetails = () => {
    const nameIn = h('input', { name: 'name', value: name, maxlength: '64', autocomplete: 'name', required: true, tPlaceholder: 'your_name' });
    const noteIn = reception ? h('textarea', { name: 'note', maxlength: '2000', tPlaceholder: 'petition_note' }, note) : null;
    const inviter = inviterOf(info);
    const form = h(
      'form',
      {
        class: 'card narrow invite',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          name = nameIn.value.trim();
          note = noteIn?.value.trim() ?? '';
          if (!name) {
            toast(t('name_required'), 'error');
            return;
          }
          showDevices();
        },
      },
      steps('name'),
      h('h1', null, T(reception ? 'invite_reception_title' : 'invite_title')),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, T('invite_session')),
        h('dd', { class: 'session-title' }, info.session.title),
        info.centre ? [h('dt', null, T('invite_centre')), h('dd', null, info.centre.name)] : null,
        inviter ? [h('dt', null, T('invite_by')), h('dd', null, inviter)] : null,
        info.session.scheduled_at ? [h('dt', null, T('invite_when')), h('dd', null, fmtTime(info.session.scheduled_at))] : null,
        h('dt', null, T('invite_role')),
        h('dd', null, roleText(info.role, info.side)),
      ),
      h('label', null, T('your_name'), nameIn, h('span', { class: 'small' }, T('your_name_hint'))),
      noteIn ? h('label', null, T('petition_note'), noteIn) : null,
      h('div', { class: 'actions end' }, h('button', { class: 'btn primary', type: 'submit', 'data-action': 'name-ok' }, T('next'), icon('arrowRight'))),
    );
    mount(main, form);
  };

  // 2. devices
  const showDevices = () => {
    const dc = deviceCheck(
      (c) => {
        choice = c;
        showConsent();
      },
      () => {
        dc.stop();
        showDetails();
      },
    );
    mount(main, h('div', { class: 'narrow wide' }, h('div', { class: 'card' }, steps('devices')), dc.el));
  };

  // 3. notice and consent
  const showConsent = () => {
    const policy = info.session.caucus_policy === 'sealed' ? 'consent_caucus_sealed' : 'consent_caucus_none';
    // the server's notice is the text of record (Chinese); an English reader gets ours
    // and the original beside it
    const ours = [h('p', null, T('consent_body_1')), h('p', null, T('consent_body_2'))];
    const server = info.notice ? info.notice.split(/\n+/).map((p) => h('p', null, p)) : [];
    const paragraphs = !server.length ? ours : getLang() === 'zh' ? server : [...ours, h('details', null, h('summary', { class: 'small' }, '原文 / Original'), ...server)];
    mount(
      main,
      h(
        'div',
        { class: 'card narrow consent' },
        steps('consent'),
        h('h2', null, icon('shield'), ' ', T('consent_title')),
        h('div', { class: 'notice' }, ...paragraphs, server.length ? null : h('p', null, T(policy)), h('p', { class: 'muted small' }, T('consent_decline_info_join'))),
        h(
          'div',
          { class: 'actions end' },
          h('button', { class: 'btn', type: 'button', 'data-action': 'decline', onclick: () => void join(false) }, T('consent_decline')),
          h('button', { class: 'btn primary', type: 'button', 'data-action': 'consent', onclick: () => void join(true) }, icon('check'), T('consent_accept')),
        ),
      ),
    );
  };

  // 4. join: the answer is recorded server-side with the join
  const join = async (consent: boolean) => {
    mount(main, h('div', { class: 'card narrow' }, spinner()));
    let j: Join;
    try {
      const body: Record<string, unknown> = { name, consent };
      if (note) body.note = note;
      lastBody = body;
      j = await post<Join>(`/api/join/${encodeURIComponent(code)}`, body);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'conflict') {
        choice?.tracks.forEach((tr) => tr.stop());
        mount(main, h('div', { class: 'card narrow center ended' }, icon('door'), h('h2', null, T('room_ended')), h('p', { class: 'muted' }, e.message)));
        return;
      }
      if (e instanceof ApiError && e.code === 'unknown_field' && note) {
        // an older server without petition notes: join without it
        note = '';
        return join(consent);
      }
      mount(main, errorBox((e as Error).message, () => void join(consent)));
      return;
    }
    if (!consent) {
      mount(
        main,
        h(
          'div',
          { class: 'card narrow declined' },
          h('h2', null, T('consent_declined_title')),
          h('p', null, T('consent_declined_body')),
          h('p', { class: 'muted small' }, T('consent_decline_info_join')),
          h(
            'div',
            { class: 'actions end' },
            h('button', { class: 'btn', type: 'button', onclick: () => showConsent() }, T('back')),
            h('button', { class: 'btn primary', type: 'button', 'data-action': 'enter-anyway', onclick: () => void enter(j) }, T('consent_declined_continue')),
          ),
        ),
      );
      return;
    }
    await enter(j);
  };

  const enter = async (j: Join) => {
    const c = choice;
    choice = undefined; // tracks belong to this call now
    const call = new Call({
      url: j.url,
      token: j.token,
      tracks: c?.tracks,
      audioOnly: c?.audioOnly,
      videoDeviceId: c?.videoDeviceId,
      audioDeviceId: c?.audioDeviceId,
      outputDeviceId: c?.outputDeviceId,
      confirmLeave: true,
      lobbyNote: h('p', { class: 'muted small' }, info.session.title, info.centre ? ' · ' + info.centre.name : ''),
      onEnd: (reason) => ended(reason),
      // a lost connection comes back with a fresh token (the join token is short-lived)
      rejoin: async () => {
        const again = await post<Join>(`/api/join/${encodeURIComponent(code)}`, lastBody);
        return { url: again.url, token: again.token };
      },
    });
    mount(main, call.el);
    main.classList.add('page-call');
    docs?.stop();
    docs = docsDrawer(code); // documents shown live or sent to sign (issue 10)
    main.append(docs.el);
    try {
      await call.start();
    } catch (e) {
      main.classList.remove('page-call');
      mount(main, errorBox(t('connect_failed', { msg: (e as Error).message }), () => void join(true)));
    }
  };

  let docs: { el: HTMLElement; stop: () => void } | undefined;
  const ended = (reason?: DisconnectReason) => {
    main.classList.remove('page-call');
    docs?.stop();
    const key: Key =
      reason === DisconnectReason.PARTICIPANT_REMOVED
        ? 'removed'
        : reason === DisconnectReason.ROOM_DELETED || reason === DisconnectReason.ROOM_CLOSED
          ? 'room_ended'
          : reason === DisconnectReason.CLIENT_INITIATED
            ? 'left_title'
            : 'disconnected';
    mount(
      main,
      h(
        'div',
        { class: 'card narrow center ended', dataset: { reason: String(reason ?? '') } },
        icon('door'),
        h('h2', null, T(key)),
        h('p', { class: 'muted' }, T('left_body')),
        key !== 'room_ended' && key !== 'removed' ? h('button', { class: 'btn primary', onclick: () => void partyPage(root, code) }, T('rejoin')) : null,
        h('a', { class: 'btn', href: `/j/${encodeURIComponent(code)}/documents`, 'data-action': 'my-documents' }, icon('folder'), T('doc_my_docs')),
      ),
    );
  };

  showDetails();
}

function roleText(role: string, side?: string): string {
  if (role === 'party' && side) return tv('role', side);
  const r = tv('role', role);
  return side ? `${r}（${tv('side', side)}）` : r;
}
