// The judge's queue (issue 10): requests for judicial confirmation; each opens the sealed
// agreement, every signature's identity evidence, the case's recordings and the case
// file's verification; the judge schedules a video hearing or decides.
import { get, post, type Session } from '../api';
import { h, T, fmtTime, mount, toast } from '../dom';
import { icon } from '../icons';
import { t, tv } from '../i18n';
import type { Ctx } from './console';
import type { Doc } from './documents';

interface Confirmation {
  id: number; document: number; document_title: string; document_sha256: string; case: number; case_number: string; case_title: string;
  judge: string; judge_name: string; requested_by: string; requested_at: string; late: boolean; state: string; reason?: string;
  decided_at?: string | null; session?: number; decision_document?: number;
}
interface Detail {
  confirmation: Confirmation; document: Doc; sessions: Session[];
  files: { path: string; size: number }[]; verify?: { ok: boolean; problems: string[]; checked: string[] };
}

function chip(state: string): HTMLElement {
  return h('span', { class: 'chip' + (state === 'confirmed' ? ' ok' : state === 'pending' ? ' blue' : ''), dataset: { confState: state } }, tv('conf_state', state));
}

export async function queuePage(ctx: Ctx): Promise<void> {
  const r = await get<{ confirmations: Confirmation[] }>('/api/confirmations');
  mount(
    ctx.content,
    h('h1', null, icon('shield'), ' ', T('conf_queue')),
    r.confirmations.length
      ? h(
          'table',
          { class: 'list conf-queue' },
          h('thead', null, h('tr', null, h('th', null, T('case_no')), h('th', null, T('doc_title')), h('th', null, T('conf_requested')), h('th', null, ''))),
          h(
            'tbody',
            null,
            ...r.confirmations.map((c) =>
              h(
                'tr',
                { dataset: { confirmation: String(c.id) } },
                h('td', { class: 'mono' }, h('a', { href: `/console/confirmations/${c.id}` }, c.case_number)),
                h('td', null, c.document_title, ' · ', c.case_title),
                h('td', null, fmtTime(c.requested_at), c.late ? h('span', { class: 'chip red' }, T('conf_late')) : null),
                h('td', null, chip(c.state)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, T('conf_none')),
  );
  ctx.on('confirmation', () => void queuePage(ctx));
}

export async function confirmationPage(ctx: Ctx): Promise<void> {
  const id = ctx.params[0];
  const d = await get<Detail>(`/api/confirmations/${id}`);
  const c = d.confirmation;
  const doc = d.document;
  const signers = doc.signers.filter((s) => s.version === doc.version && !s.void_at);
  const reason = h('textarea', { name: 'reason', rows: '3', tPlaceholder: 'conf_reason' });
  const decide = async (decision: string) => {
    if (decision === 'rejected' && !reason.value.trim()) return toast(t('conf_reason_needed'), 'error');
    try {
      await post(`/api/confirmations/${id}/decision`, { decision, reason: reason.value.trim() });
      toast(t('conf_decided'));
      await confirmationPage(ctx);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  const v = d.verify;
  mount(
    ctx.content,
    h('h1', null, T('conf_title'), ' ', chip(c.state)),
    h('p', { class: 'muted' }, h('span', { class: 'mono' }, c.case_number), ' ', c.case_title, ' · ', T('conf_requested'), ' ', fmtTime(c.requested_at), c.late ? [' ', h('span', { class: 'chip red' }, T('conf_late'))] : null),
    h(
      'div',
      { class: 'two-col' },
      h(
        'div',
        { class: 'card' },
        h('h2', null, doc.title),
        h('div', { class: 'doc-body' }, doc.body),
        h('div', { class: 'small muted' }, T('doc_fingerprint'), '：', h('code', { class: 'mono' }, doc.sha256)),
        h('a', { class: 'btn', href: `/api/documents/${doc.id}/pdf`, download: '', 'data-action': 'agreement-pdf' }, icon('download'), T('doc_download')),
      ),
      h(
        'div',
        null,
        h(
          'div',
          { class: 'card evidence' },
          h('h3', null, T('conf_evidence')),
          h('ul', { class: 'plain' }, ...signers.map((s) => h('li', null, h('strong', null, s.name), ' · ', tv('role', s.side || s.role), ' · ', fmtTime(s.signed_at ?? ''), h('div', { class: 'small muted' }, evidence(s.evidence ?? '')), s.still ? h('div', { class: 'small muted still-ev' }, T('conf_still')) : null))),
        ),
        h(
          'div',
          { class: 'card verify', dataset: { ok: String(!!v?.ok) } },
          h('h3', null, T('conf_verify')),
          v
            ? v.ok
              ? h('p', { class: 'check-line ok' }, icon('check'), T('conf_verify_ok'))
              : v.problems.every((p) => p.includes('not sealed'))
                ? h('p', { class: 'check-line warn' }, icon('clock'), T('conf_verify_open'))
                : h('p', { class: 'check-line bad' }, icon('alert'), T('conf_verify_bad', { p: v.problems[0] ?? '' }))
            : null,
          h('h3', null, T('conf_recordings')),
          h(
            'ul',
            { class: 'plain small' },
            ...d.files.filter((f) => f.path.endsWith('.webm')).map((f) => h('li', { class: 'mono' }, h('a', { href: `/api/confirmations/${id}/file/${f.path}`, target: '_blank' }, f.path))),
          ),
        ),
        c.state === 'pending'
          ? h(
              'div',
              { class: 'card decide' },
              h(
                'button',
                {
                  class: 'btn',
                  'data-action': 'schedule',
                  onclick: async () => {
                    const s = await post<Session>(`/api/confirmations/${id}/session`, {});
                    ctx.go(`/console/sessions/${s.id}`);
                  },
                },
                icon('calendar'),
                T('conf_schedule'),
              ),
              c.session ? h('a', { class: 'btn ghost', href: `/console/sessions/${c.session}` }, '#', String(c.session)) : null,
              h('label', null, T('conf_reason'), reason),
              h(
                'div',
                { class: 'actions' },
                h('button', { class: 'btn primary', 'data-action': 'confirm', onclick: () => void decide('confirmed') }, icon('check'), T('conf_confirm')),
                h('button', { class: 'btn', 'data-action': 'reject', onclick: () => void decide('rejected') }, T('conf_reject')),
              ),
            )
          : h(
              'div',
              { class: 'card' },
              h('p', null, chip(c.state), ' ', fmtTime(c.decided_at ?? ''), c.reason ? ` · ${c.reason}` : ''),
              c.decision_document ? h('a', { class: 'btn', href: `/api/documents/${c.decision_document}/pdf`, download: '' }, icon('download'), T('doc_download')) : null,
            ),
      ),
    ),
  );
}

function evidence(ev: string): string {
  const [kind, who] = ev.split(':');
  return tv('ev', kind) + (who ? ` (${who})` : '');
}
