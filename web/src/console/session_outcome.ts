// A reception's current petitioner and the outcome form: the conversation is filed into
// a new or an existing case, with an optional supervision item.
import { post, type LiveParticipant } from '../api';
import { h, T, toast } from '../dom';
import { t } from '../i18n';
import { icon } from '../icons';
import type { SessionPage } from './session_page';
import { CATEGORIES, RISKS, field, valueSelect } from './ui';

export function currentPanel(current: LiveParticipant[]): HTMLElement {
  return h('div', { class: 'panel current' }, h('h3', null, T('rec_current')), ...current.map((p) => h('div', { class: 'person' }, icon('user'), h('span', { class: 'pname' }, p.name), p.note ? h('span', { class: 'small' }, p.note) : null)));
}

export function outcomeForm(pg: SessionPage, p: LiveParticipant): HTMLFormElement {
  const { id, c } = pg;
  const note = h('textarea', { name: 'outcome-note', required: true });
  const caseSel = h('select', { name: 'outcome-case' }, h('option', { value: '' }, t('rec_outcome_new_case')), c ? h('option', { value: String(c.id) }, `${c.number} ${c.title}`) : null);
  const title = h('input', { name: 'outcome-title', value: `来访：${p.name}` });
  const cat = valueSelect('outcome-category', 'cat', CATEGORIES, 'other');
  const risk = valueSelect('outcome-risk', 'grade', RISKS, 'blue');
  const unit = h('input', { name: 'outcome-unit' });
  const deadline = h('input', { name: 'outcome-deadline', type: 'date' });
  return h(
    'form',
    {
      class: 'panel outcome',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const body: Record<string, unknown> = { identity: p.identity, note: note.value.trim() };
        if (caseSel.value) body.case = Number(caseSel.value);
        else {
          body.title = title.value.trim();
          body.category = cat.value;
          body.risk = risk.value;
        }
        if (unit.value.trim()) body.supervise = { unit: unit.value.trim(), deadline: deadline.value || undefined };
        try {
          await post(`/api/sessions/${id}/outcome`, body);
          toast(t('rec_outcome_filed'));
        } catch (e) {
          toast((e as Error).message, 'error');
        }
        await pg.refreshLive();
      },
    },
    h('h3', null, T('rec_outcome'), h('span', { class: 'muted small' }, p.name)),
    field('rec_outcome_note', note),
    field('rec_outcome_case', caseSel),
    h('div', { class: 'two-col' }, field('case_title', title), field('case_category', cat)),
    h('div', { class: 'two-col' }, field('case_grade', risk), field('rec_outcome_unit', unit)),
    field('rec_outcome_deadline', deadline),
    h('button', { class: 'btn primary', type: 'submit', 'data-action': 'file-outcome' }, T('rec_outcome_file')),
  );
}
