// A party's documents (issue 10): the text the mediator shows live in the space they are
// in (read-only, large enough for a phone), documents sent to them to sign (full text,
// fingerprint, "I have read and agree", a finger-drawn signature), and the sealed copies
// to download. Used as a drawer during the call and as the page /j/<code>/documents.
import SignaturePad from 'signature_pad';
import { get, post, ApiError } from './api';
import { h, T, mount, toast } from './dom';
import { icon } from './icons';
import { t, tv } from './i18n';
import { header, errorBox, spinner } from './shell';

export interface PartyDoc {
  id: number; kind: string; title: string; body: string; version: number; sha256: string; state: string; case_number: string;
  shown: boolean; signer: boolean; signed: boolean; identity?: string; pdf: boolean; sealed_at?: string;
  signatures: { name: string; role: string; version: number; signed_at?: string; void_at?: string; void_reason?: string }[];
  confirmation?: { state: string; reason?: string };
}
interface PartyDocs { documents: PartyDoc[]; sms: boolean }

const base = (code: string) => `/api/join/${encodeURIComponent(code)}/documents`;

/** Polls the invitee's documents every interval ms and calls draw with each answer. */
function poll(code: string, draw: (d: PartyDocs) => void, interval = 1200): () => void {
  let stopped = false;
  let timer = 0;
  const tick = async () => {
    try {
      draw(await get<PartyDocs>(base(code)));
    } catch {
      /* offline for a moment: the next tick tries again */
    }
    if (!stopped) timer = window.setTimeout(tick, interval);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function fingerprint(sha: string): HTMLElement {
  return h('div', { class: 'doc-fp small' }, T('doc_fingerprint'), '：', h('code', { class: 'mono', 'data-sha': sha }, sha));
}

function docText(d: PartyDoc): HTMLElement {
  return h(
    'article',
    { class: 'doc-text', dataset: { doc: String(d.id), version: String(d.version) } },
    h('h2', null, d.title),
    h('p', { class: 'muted small' }, d.case_number, ' · ', T('doc_version', { n: d.version })),
    h('div', { class: 'doc-body' }, d.body),
  );
}

/** One document as the party sees it: text, their signature's state, what they can do. */
function docCard(code: string, d: PartyDoc, sign: (d: PartyDoc) => void): HTMLElement {
  const mine = d.signatures.filter((s) => s.void_at && s.signed_at);
  const actions: HTMLElement[] = [];
  if (d.signer && !d.signed && d.state === 'signing') {
    actions.push(h('button', { class: 'btn primary block', 'data-action': 'sign', onclick: () => sign(d) }, icon('check'), T('doc_sign')));
  }
  if (d.pdf) {
    actions.push(h('a', { class: 'btn block', href: `${base(code)}/${d.id}/pdf`, download: '', 'data-action': 'pdf' }, icon('download'), T('doc_download')));
  }
  return h(
    'div',
    { class: 'card doc-card', dataset: { doc: String(d.id), state: d.state } },
    h('div', { class: 'row between' }, h('span', { class: 'chip' }, tv('doc_kind', d.kind)), h('span', { class: 'chip' + (d.state === 'sealed' ? ' ok' : ' blue') }, tv('doc_state', d.state))),
    d.shown && d.state !== 'sealed' ? h('p', { class: 'live-note small' }, icon('rec'), T('doc_live')) : null,
    docText(d),
    fingerprint(d.sha256),
    d.signed ? h('p', { class: 'check-line ok' }, icon('check'), T('doc_sign_done')) : null,
    ...mine.map((s) => h('p', { class: 'check-line bad doc-voided' }, icon('alert'), T('doc_voided', { why: s.void_reason ?? '' }))),
    d.confirmation ? h('p', { class: 'check-line ok' }, T('doc_decision', { d: tv('conf_state', d.confirmation.state) })) : null,
    h('div', { class: 'actions' }, ...actions),
  );
}

/** The signing view: full text, fingerprint, agree, identity, signature pad. */
function signView(code: string, d: PartyDoc, sms: boolean, done: () => void): HTMLElement {
  const canvas = h('canvas', { class: 'sig-canvas', 'aria-label': t('doc_sign_here') });
  const agree = h('input', { type: 'checkbox', name: 'agree' });
  const otp = h('input', { name: 'otp', inputmode: 'numeric', maxlength: '6', autocomplete: 'one-time-code', tPlaceholder: 'doc_otp' });
  const err = h('div', { class: 'check-line bad hidden' });
  let pad: SignaturePad | null = null;
  const fit = () => {
    // the canvas is sized for the device's pixels, so a finger's stroke stays sharp
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const w = canvas.offsetWidth || 320;
    const hgt = canvas.offsetHeight || 180;
    canvas.width = w * ratio;
    canvas.height = hgt * ratio;
    canvas.getContext('2d')!.scale(ratio, ratio);
    pad?.clear();
  };
  const fail = (msg: string) => {
    err.classList.remove('hidden');
    err.replaceChildren(icon('alert'), msg);
  };
  const identity =
    d.identity === 'otp'
      ? h(
          'div',
          { class: 'row otp' },
          otp,
          h(
            'button',
            {
              class: 'btn',
              type: 'button',
              'data-action': 'otp',
              onclick: async () => {
                try {
                  const r = await post<{ phone: string }>(`${base(code)}/${d.id}/otp`);
                  toast(t('doc_otp_sent', { phone: r.phone }));
                } catch (e) {
                  fail((e as Error).message);
                }
              },
            },
            T('doc_otp_send'),
          ),
        )
      : h('p', { class: 'check-line ' + (d.identity === 'attested' ? 'ok' : 'bad') }, T(d.identity === 'attested' ? 'doc_identity_attested' : 'doc_identity_unverified'));
  void sms;
  // a still frame from the camera: optional, with its own consent, never the only evidence
  const still = h('input', { type: 'checkbox', name: 'still' });
  const submit = async () => {
    err.classList.add('hidden');
    if (!agree.checked) return fail(t('doc_agree_needed'));
    if (!pad || pad.isEmpty()) return fail(t('doc_sign_empty'));
    const body: Record<string, unknown> = { version: d.version, sha256: d.sha256, agree: true, signature_png: pad.toDataURL('image/png') };
    if (d.identity === 'otp') body.otp = otp.value.trim();
    if (still.checked) {
      const png = await stillFrame().catch(() => '');
      if (png) {
        body.still_png = png;
        body.still_consent = true;
      }
    }
    try {
      const r = await post<{ sealed: boolean }>(`${base(code)}/${d.id}/sign`, body);
      toast(t(r.sealed ? 'doc_sign_sealed' : 'doc_sign_done'));
      done();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        toast(t('doc_sign_stale'), 'error');
        done();
        return;
      }
      fail((e as Error).message);
    }
  };
  const el = h(
    'div',
    { class: 'sign-view', dataset: { doc: String(d.id) } },
    h('button', { class: 'btn ghost small', type: 'button', onclick: done }, icon('arrowLeft'), T('back')),
    docText(d),
    fingerprint(d.sha256),
    h('label', { class: 'agree' }, agree, T('doc_agree')),
    identity,
    h('label', { class: 'small still' }, still, ' ', T('doc_still')),
    h('div', { class: 'sig-box' }, h('div', { class: 'small muted' }, T('doc_sign_here')), canvas),
    h('div', { class: 'row' }, h('button', { class: 'btn', type: 'button', 'data-action': 'clear', onclick: () => pad?.clear() }, T('doc_sign_clear'))),
    err,
    h('button', { class: 'btn primary block', type: 'button', 'data-action': 'submit-signature', onclick: () => void submit() }, icon('check'), T('doc_sign_submit')),
  );
  requestAnimationFrame(() => {
    pad = new SignaturePad(canvas, { minWidth: 1, maxWidth: 3, penColor: '#111' });
    fit();
  });
  return el;
}

/** The documents list with signing, drawn into box; returns a stop function. */
function docsView(code: string, box: HTMLElement, onCount?: (n: number, attention: boolean) => void): () => void {
  let signing: number | null = null; // the document being signed: polling leaves the view alone
  let last = '';
  const draw = (d: PartyDocs) => {
    onCount?.(d.documents.length, d.documents.some((x) => x.shown || (x.signer && !x.signed && x.state === 'signing')));
    if (signing !== null) {
      const cur = d.documents.find((x) => x.id === signing);
      if (cur && cur.signer && !cur.signed && cur.state === 'signing') return;
      signing = null; // signed, sealed or changed: back to the list
    }
    const key = JSON.stringify(d);
    if (key === last) return; // nothing changed: keep the reader's scroll position
    last = key;
    if (!d.documents.length) {
      mount(box, h('p', { class: 'muted center' }, T('doc_none')));
      return;
    }
    const ordered = d.documents.slice().sort((a, b) => Number(b.shown) - Number(a.shown) || b.id - a.id);
    mount(
      box,
      ...ordered.map((doc) =>
        docCard(code, doc, (x) => {
          signing = x.id;
          mount(box, signView(code, x, d.sms, () => {
            signing = null;
            last = '';
            void get<PartyDocs>(base(code)).then(draw).catch(() => undefined);
          }));
        }),
      ),
    );
  };
  return poll(code, draw);
}

/** The drawer shown during the call: a button with a badge, and the documents. */
export function docsDrawer(code: string): { el: HTMLElement; stop: () => void } {
  const box = h('div', { class: 'doc-drawer-body' });
  const badge = h('span', { class: 'badge hidden' });
  const drawer = h('div', { class: 'doc-drawer hidden' }, h('div', { class: 'row between' }, h('h2', null, icon('folder'), T('doc_panel')), h('button', { class: 'btn ghost small', tAria: 'close', onclick: () => drawer.classList.add('hidden') }, icon('x'))), box);
  const btn = h('button', { class: 'btn doc-fab hidden', 'data-action': 'documents', onclick: () => drawer.classList.toggle('hidden') }, icon('folder'), T('doc_panel'), badge);
  let opened = false;
  const stop = docsView(code, box, (n, attention) => {
    btn.classList.toggle('hidden', n === 0);
    badge.classList.toggle('hidden', !attention);
    if (attention && !opened) {
      opened = true; // the first time something is shown or to sign, open it once
      drawer.classList.remove('hidden');
    }
    if (!attention) opened = false;
  });
  return { el: h('div', { class: 'doc-layer' }, btn, drawer), stop };
}

/** /j/<code>/documents: the party's documents outside the call (sign later, download). */
export async function partyDocsPage(root: HTMLElement, code: string): Promise<void> {
  const box = h('div', { class: 'docs-page' }, spinner());
  mount(root, header(), h('main', { class: 'page party' }, h('div', { class: 'narrow' }, h('h1', null, icon('folder'), ' ', T('doc_my_docs')), box)));
  try {
    await get(base(code));
  } catch (e) {
    mount(box, errorBox((e as Error).message, () => void partyDocsPage(root, code)));
    return;
  }
  docsView(code, box);
}


/** One frame of the camera as a PNG data URL: from the call's own video when there is
 * one, else from a short-lived camera stream. */
async function stillFrame(): Promise<string> {
  let v = document.querySelector<HTMLVideoElement>('.tile.local video');
  let stream: MediaStream | null = null;
  if (!v || !v.videoWidth) {
    stream = await navigator.mediaDevices.getUserMedia({ video: true });
    v = document.createElement('video');
    v.muted = true;
    v.playsInline = true;
    v.srcObject = stream;
    await v.play();
    await new Promise((r) => setTimeout(r, 300));
  }
  try {
    const w = Math.min(v.videoWidth, 320);
    const hgt = Math.round((v.videoHeight * w) / v.videoWidth);
    const c = document.createElement('canvas');
    c.width = w;
    c.height = hgt;
    c.getContext('2d')!.drawImage(v, 0, 0, w, hgt);
    return c.toDataURL('image/png');
  } finally {
    stream?.getTracks().forEach((t) => t.stop());
  }
}
