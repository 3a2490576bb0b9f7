// Console documents (issue 10): the documents of a case (on the case and session pages),
// the drafting view (/console/documents/<id>: typed text saved as versions while the
// parties in the joint space watch it), sending for signature, attesting identity, the
// signers' state, the sealed PDF and the request for judicial confirmation.
import { get, post, api, ApiError, type Case, type Invitation, type Session, type Staff } from '../api';
import { h, T, fmtTime, mount, toast } from '../dom';
import { icon } from '../icons';
import { t, tv } from '../i18n';
import type { Ctx } from './console';
import { modal } from './ui';

export interface DocSigner {
  id: number; name: string; role: string; side?: string; invitation?: string; invitation_id?: number; username?: string;
  version: number; signed_at?: string | null; evidence?: string; attested_by?: string; still?: boolean; void_at?: string; void_reason?: string;
}
export interface Doc {
  id: number; case: number; case_number: string; session?: number; kind: string; title: string; body: string; version: number;
  sha256: string; state: string; shown_space?: string; sealed_at?: string | null; pdf_sha256?: string; signers: DocSigner[];
}

function stateChip(s: string): HTMLElement {
  return h('span', { class: 'chip' + (s === 'sealed' ? ' ok' : s === 'void' ? '' : ' blue'), dataset: { docState: s } }, tv('doc_state', s));
}

/** The documents card of a case (and of one of its sessions: new drafts belong to it). */
export function docsSection(ctx: Ctx, caseId: number, sessionId?: number): HTMLElement {
  const list = h('div', { class: 'doc-list' });
  // On a session page the call must go on: documents open in a tab of their own.
  const create = (kind: string) => {
    const url = `/console/documents/new?case=${caseId}&kind=${kind}` + (sessionId ? `&session=${sessionId}` : '');
    if (sessionId) window.open(url, '_blank');
    else ctx.go(url);
  };
  const draw = async () => {
    const r = await get<{ documents: Doc[] }>(`/api/cases/${caseId}/documents`).catch(() => ({ documents: [] as Doc[] }));
    mount(
      list,
      r.documents.length
        ? h(
            'ul',
            { class: 'plain' },
            ...r.documents.map((d) =>
              h(
                'li',
                { dataset: { doc: String(d.id) } },
                h('a', { href: `/console/documents/${d.id}`, target: sessionId ? '_blank' : undefined }, tv('doc_kind', d.kind), ' · ', d.title),
                ' ',
                stateChip(d.state),
                ' ',
                h('span', { class: 'muted small' }, T('doc_version', { n: d.version })),
              ),
            ),
          )
        : h('p', { class: 'muted' }, T('doc_none')),
    );
  };
  void draw();
  ctx.on('document', () => void draw());
  return h(
    'div',
    { class: 'card documents' },
    h('h2', null, icon('folder'), ' ', T('doc_section')),
    list,
    h(
      'div',
      { class: 'actions' },
      h('button', { class: 'btn', 'data-action': 'new-agreement', onclick: () => create('agreement') }, icon('plus'), T('doc_new_agreement')),
      h('button', { class: 'btn', 'data-action': 'new-minutes', onclick: () => create('minutes') }, icon('plus'), T('doc_new_minutes')),
    ),
  );
}

/** /console/documents/new?case=&kind=[&session=]: creates the draft from the template, then opens it. */
export async function newDocumentPage(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const body: Record<string, unknown> = { kind: q.get('kind') || 'agreement' };
  if (q.get('session')) body.session = Number(q.get('session'));
  const d = await post<Doc>(`/api/cases/${Number(q.get('case'))}/documents`, body);
  history.replaceState(null, '', `/console/documents/${d.id}`);
  await documentPage({ ...ctx, params: [String(d.id)] });
}

/** /console/documents/<id>: the drafting view. */
export async function documentPage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  let d = await get<Doc>(`/api/documents/${id}`);
  const editor = ctx.me.roles.some((r) => ['mediator', 'leader', 'clerk', 'admin'].includes(r));
  const titleIn = h('input', { name: 'title', value: d.title, maxlength: '200' });
  const bodyIn = h('textarea', { name: 'body', class: 'doc-editor', rows: '22' }, d.body);
  const status = h('span', { class: 'small muted doc-status' });
  const fp = h('code', { class: 'mono small doc-sha' });
  const head = h('div');
  const side = h('div', { class: 'doc-side' });
  const editable = () => editor && (d.state === 'draft' || d.state === 'signing');

  const drawHead = () => {
    mount(
      head,
      h('h1', null, tv('doc_kind', d.kind), ' ', stateChip(d.state)),
      h('p', { class: 'muted' }, h('a', { href: `/console/cases/${d.case}` }, d.case_number), ' · ', T('doc_version', { n: d.version }), d.session ? [' · ', h('a', { href: `/console/sessions/${d.session}` }, '#', String(d.session))] : null),
    );
    fp.textContent = d.sha256;
    titleIn.disabled = bodyIn.disabled = !editable();
  };

  // Typing saves a new version after a short pause, so the parties watching in the
  // joint space see the text follow within a second or two.
  let timer = 0;
  let saving = false;
  let again = false;
  const save = async () => {
    if (saving) {
      again = true;
      return;
    }
    if (titleIn.value.trim() === d.title && bodyIn.value === d.body) return;
    saving = true;
    status.replaceChildren(T('doc_saving'));
    try {
      d = await api<Doc>('PUT', `/api/documents/${id}`, { title: titleIn.value, body: bodyIn.value, version: d.version });
      status.replaceChildren(T('doc_saved', { n: d.version }));
      drawHead();
      drawSide();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'stale_version') {
        d = await get<Doc>(`/api/documents/${id}`);
        titleIn.value = d.title;
        bodyIn.value = d.body;
        toast(t('doc_stale'), 'error');
        drawHead();
      } else {
        status.replaceChildren(icon('alert'), (e as Error).message);
      }
    } finally {
      saving = false;
      if (again) {
        again = false;
        void save();
      }
    }
  };
  const typed = () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void save(), 700);
  };
  titleIn.addEventListener('input', typed);
  bodyIn.addEventListener('input', typed);
  ctx.onLeave(() => {
    clearTimeout(timer);
    void save();
  });

  const reload = async () => {
    d = await get<Doc>(`/api/documents/${id}`);
    drawHead();
    drawSide();
  };

  const send = async () => {
    // who may sign: the case's invitations (parties, agents) and staff by username
    const sessions: Session[] = (await get<Case>(`/api/cases/${d.case}`).catch(() => ({ sessions: [] as Session[] }) as Partial<Case>)).sessions ?? [];
    const invs: Invitation[] = [];
    for (const s of sessions) {
      const r = await get<{ invitations: Invitation[] }>(`/api/sessions/${s.id}/invitations`).catch(() => ({ invitations: [] as Invitation[] }));
      invs.push(...r.invitations.filter((i) => !i.revoked && (i.role === 'party' || i.role === 'agent')));
    }
    const already = new Set(d.signers.filter((s) => s.version === d.version && !s.void_at).map((s) => s.invitation || s.username));
    const rows = invs.map((i) => {
      const box = h('input', { type: 'checkbox', name: 'inv', value: i.code, checked: already.size ? already.has(i.code) : true });
      const att = h('input', { type: 'checkbox', name: 'attest', checked: true });
      return { i, box, att, el: h('div', { class: 'row' }, h('label', null, box, ' ', i.name, ' · ', tv('role', i.side || i.role)), h('label', { class: 'small' }, att, ' ', T('doc_attest'))) };
    });
    const me = h('input', { type: 'checkbox', name: 'me', checked: true });
    const close = modal(
      t('doc_send'),
      h('div', null, h('p', { class: 'muted small' }, T('doc_send_hint')), ...rows.map((r) => r.el), h('label', null, me, ' ', ctx.me.name, ' · ', tv('role', 'mediator'))),
      [
        h(
          'button',
          {
            class: 'btn primary',
            'data-action': 'send-confirm',
            onclick: async () => {
              const signers: Record<string, unknown>[] = rows.filter((r) => r.box.checked).map((r) => ({ invitation: r.i.code, attest: r.att.checked }));
              if (me.checked) signers.push({ username: ctx.me.username });
              try {
                await save();
                d = await post<Doc>(`/api/documents/${id}/send`, { signers, version: d.version });
                close();
                drawHead();
                drawSide();
              } catch (e) {
                toast((e as Error).message, 'error');
              }
            },
          },
          T('doc_send'),
        ),
      ],
    );
  };

  const askConfirmation = async () => {
    const judges = (await get<{ staff: Staff[] }>('/api/staff?role=judge')).staff;
    const sel = h('select', { name: 'judge' }, ...judges.map((j) => h('option', { value: j.username }, `${j.name}（${j.centre_name || j.centre}）`)));
    const close = modal(t('doc_ask_confirmation'), h('label', null, T('doc_judge'), sel), [
      h(
        'button',
        {
          class: 'btn primary',
          'data-action': 'ask-confirm',
          onclick: async () => {
            try {
              await post(`/api/documents/${id}/confirmation`, { judge: sel.value });
              toast(t('doc_confirmation_asked'));
              close();
            } catch (e) {
              toast((e as Error).message, 'error');
            }
          },
        },
        T('doc_ask_confirmation'),
      ),
    ]);
  };

  const drawSide = () => {
    const cur = d.signers.filter((s) => s.version === d.version && !s.void_at);
    const voided = d.signers.filter((s) => s.void_at && s.signed_at);
    const shown = d.shown_space === 'joint';
    const mineToSign = cur.find((s) => s.username === ctx.me.username && !s.signed_at) && d.state === 'signing';
    mount(
      side,
      h('div', { class: 'card' }, h('div', { class: 'small muted' }, T('doc_fingerprint')), fp),
      editable() && d.session
        ? h(
            'button',
            {
              class: 'btn block' + (shown ? ' primary' : ''),
              'data-action': 'show',
              onclick: async () => {
                await post(`/api/documents/${id}/show`, { space: shown ? '' : 'joint' });
                await reload();
              },
            },
            icon(shown ? 'x' : 'users'),
            T(shown ? 'doc_hide' : 'doc_show_joint'),
          )
        : null,
      shown ? h('p', { class: 'check-line ok small' }, icon('rec'), T('doc_shown_joint')) : null,
      h(
        'div',
        { class: 'card signers' },
        h('h3', null, T('doc_signers')),
        cur.length
          ? h(
              'ul',
              { class: 'plain' },
              ...cur.map((s) =>
                h(
                  'li',
                  { dataset: { signer: s.invitation || s.username || String(s.id) } },
                  h('strong', null, s.name),
                  ' · ',
                  tv('role', s.side || s.role),
                  ' ',
                  s.signed_at ? h('span', { class: 'chip ok' }, T('doc_signed_at', { time: fmtTime(s.signed_at) })) : h('span', { class: 'chip' }, T('doc_waiting')),
                  s.attested_by ? h('div', { class: 'small muted' }, T('doc_attested', { who: s.attested_by })) : null,
                  !s.signed_at && !s.attested_by && s.invitation && editable()
                    ? h(
                        'button',
                        {
                          class: 'btn small',
                          'data-action': 'attest',
                          onclick: async () => {
                            await post(`/api/documents/${id}/attest`, { invitation: s.invitation });
                            await reload();
                          },
                        },
                        T('doc_attest'),
                      )
                    : null,
                ),
              ),
            )
          : h('p', { class: 'muted small' }, T('doc_waiting')),
        ...voided.map((s) => h('p', { class: 'small muted' }, s.name, '：', T('doc_voided', { why: s.void_reason ?? '' }))),
      ),
      editable() ? h('button', { class: 'btn primary block', 'data-action': 'send', onclick: () => void send() }, icon('arrowRight'), T('doc_send')) : null,
      mineToSign ? staffSignBox() : null,
      d.state === 'sealed' ? h('a', { class: 'btn block', href: `/api/documents/${id}/pdf`, download: '', 'data-action': 'pdf' }, icon('download'), T('doc_download')) : null,
      d.state === 'sealed' && d.kind === 'agreement' && editor ? h('button', { class: 'btn block', 'data-action': 'ask-confirmation', onclick: () => void askConfirmation() }, T('doc_ask_confirmation')) : null,
      editable()
        ? h(
            'button',
            {
              class: 'btn ghost small',
              'data-action': 'void',
              onclick: async () => {
                const reason = prompt(t('doc_void_reason'));
                if (!reason) return;
                await post(`/api/documents/${id}/void`, { reason }).catch((e) => toast((e as Error).message, 'error'));
                await reload();
              },
            },
            T('doc_void'),
          )
        : null,
    );
  };

  // the staff member's own signature: the same pad as the parties'
  const staffSignBox = (): HTMLElement => {
    const box = h('div', { class: 'card' });
    void import('signature_pad').then(({ default: SignaturePad }) => {
      const canvas = h('canvas', { class: 'sig-canvas' });
      mount(
        box,
        h('h3', null, T('doc_sign_mine')),
        canvas,
        h(
          'button',
          {
            class: 'btn primary block',
            'data-action': 'staff-sign',
            onclick: async () => {
              if (pad.isEmpty()) return toast(t('doc_sign_empty'), 'error');
              try {
                await post(`/api/documents/${id}/sign`, { version: d.version, sha256: d.sha256, signature_png: pad.toDataURL('image/png') });
                toast(t('doc_sign_done'));
                await reload();
              } catch (e) {
                toast((e as Error).message, 'error');
                await reload();
              }
            },
          },
          T('doc_sign_submit'),
        ),
      );
      canvas.width = canvas.offsetWidth || 300;
      canvas.height = canvas.offsetHeight || 150;
      const pad = new SignaturePad(canvas, { penColor: '#111' });
    });
    return box;
  };

  drawHead();
  drawSide();
  mount(
    ctx.content,
    head,
    h(
      'div',
      { class: 'doc-draft' },
      h('div', { class: 'card doc-main' }, h('label', null, T('doc_title'), titleIn), h('label', null, T('doc_body'), bodyIn), status),
      side,
    ),
  );
  ctx.on('document', (data) => {
    if (Number(data.document_id) === Number(id) && !saving && titleIn.value.trim() === d.title && bodyIn.value === d.body) void reload();
  });
}
