// Admins (issue 10): the document templates per kind and case category, and the centre's
// seal image printed on sealed documents.
import { get, api, ApiError } from '../api';
import { h, T, mount, toast } from '../dom';
import { icon } from '../icons';
import { t, tv } from '../i18n';
import type { Ctx } from './console';

interface Template { kind: string; category: string; title: string; body: string; updated_by: string; updated_at?: string }

export async function templatesPage(ctx: Ctx): Promise<void> {
  const r = await get<{ templates: Template[] }>('/api/document-templates');
  const list = r.templates;
  const sel = h('select', { name: 'template' }, ...list.map((x, i) => h('option', { value: String(i) }, `${tv('doc_kind', x.kind)} · ${tv('cat', x.category)}`)));
  const title = h('input', { name: 'title', maxlength: '200' });
  const body = h('textarea', { name: 'body', class: 'doc-editor', rows: '20' });
  const load = () => {
    const x = list[Number(sel.value)];
    if (!x) return;
    title.value = x.title;
    body.value = x.body;
  };
  sel.addEventListener('change', load);
  load();
  const save = async () => {
    const x = list[Number(sel.value)];
    try {
      const saved = await api<Template>('PUT', `/api/document-templates/${x.kind}/${x.category}`, { title: title.value, body: body.value });
      list[Number(sel.value)] = saved;
      toast(t('tpl_saved'));
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };

  const centre = ctx.me.centre;
  const sealBox = h('div', { class: 'seal-box' });
  const drawSeal = () =>
    mount(
      sealBox,
      h('img', {
        src: `/api/centres/${encodeURIComponent(centre)}/seal?t=${Date.now()}`,
        alt: '',
        style: { maxWidth: '160px', maxHeight: '160px' },
        onerror: (e: Event) => (e.target as HTMLElement).replaceWith(h('p', { class: 'muted' }, T('tpl_seal_none'))),
      }),
    );
  drawSeal();
  const file = h('input', { type: 'file', accept: 'image/png', name: 'seal' });
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (!f) return;
    const rd = new FileReader();
    rd.onload = async () => {
      try {
        await api('PUT', `/api/centres/${encodeURIComponent(centre)}/seal`, { png: String(rd.result) });
        toast(t('tpl_seal_saved'));
        drawSeal();
      } catch (e) {
        toast(e instanceof ApiError ? e.message : String(e), 'error');
      }
    };
    rd.readAsDataURL(f);
  });

  mount(
    ctx.content,
    h('h1', null, icon('folder'), ' ', T('tpl_title')),
    h(
      'div',
      { class: 'doc-draft' },
      h('div', { class: 'card' }, sel, h('label', null, T('doc_title'), title), h('label', null, T('doc_body'), body), h('p', { class: 'small muted' }, T('tpl_fields')), h('button', { class: 'btn primary', 'data-action': 'save-template', onclick: () => void save() }, T('save'))),
      h('div', { class: 'card' }, h('h3', null, T('tpl_seal')), sealBox, file),
    ),
  );
}
