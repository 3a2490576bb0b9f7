// The recording panel of a live session: the recorder follows the session's policy and
// the consents (no manual switch); the server's plan is shown when Live carries it, else
// the policy's reading. A host may stop (with a reason) and resume.
import type { Live } from '../api';
import { h, T } from '../dom';
import { t, joinNames } from '../i18n';
import { icon } from '../icons';
import { act, spaceName, type SessionPage } from './session_page';

export function recordingPanel(pg: SessionPage, L: Live): HTMLElement {
  const { s, isHost } = pg;
  const spaces = Object.entries(L.spaces ?? {});
  if (!spaces.some(([k]) => k === 'joint')) spaces.unshift(['joint', []]);
  const everyone = Object.values(L.spaces).flat();
  const missing = everyone.filter((p) => !p.host && p.consent !== true);
  const rec = L.recording;
  const planRows: { space: string; record: boolean; reason: string }[] =
    rec?.spaces ??
    spaces
      .filter(([, ps]) => ps.length)
      .map(([sp, ps]) => {
        const miss = ps.filter((p) => !p.host && p.consent !== true).map((p) => p.name);
        const joint = sp === 'joint';
        const allowed = joint ? s.record_on_open !== false : s.caucus_policy === 'sealed';
        return {
          space: sp,
          record: allowed && miss.length === 0,
          reason: !allowed ? t(joint ? 'recording_off' : 'sess_caucus_none') : miss.length ? t('live_consent_missing', { names: joinNames(miss) }) : '',
        };
      });
  // the recorder's own word when the server gives it; else what the policy implies
  const recOn = rec ? !!rec.active : planRows.some((r) => r.record);
  return h(
    'div',
    { class: 'panel recording' },
    h('h3', null, h('span', null, icon('rec', recOn ? 'blink' : ''), ' ', T('live_rec'), ' ', recOn ? h('span', { class: 'chip live' }, T('recording_on')) : h('span', { class: 'chip' }, T('recording_off')))),
    rec && rec.healthy === false && s.state === 'live' ? h('div', { class: 'health-bad', role: 'alert' }, icon('alert'), t('live_rec_health_bad', { msg: rec.error ?? '' })) : rec?.healthy && s.state === 'live' ? h('div', { class: 'check-line ok' }, icon('check'), T('live_rec_health_ok')) : null,
    ...planRows.map((r) =>
      h(
        'div',
        { class: 'check-line ' + (r.record ? 'ok' : 'warn'), dataset: { space: r.space, record: String(r.record) } },
        icon(r.record ? 'rec' : 'alert'),
        spaceName(r.space, L.spaces[r.space] ?? []),
        '：',
        r.record ? T('recording_on') : r.reason || T('recording_off'),
      ),
    ),
    missing.length && !planRows.length ? h('div', { class: 'check-line warn' }, icon('alert'), t('live_consent_missing', { names: joinNames(missing.map((p) => p.name)) })) : null,
    rec?.stopped ? h('div', { class: 'check-line warn', dataset: { stopped: '1' } }, icon('alert'), T('live_rec_stopped'), '：', rec.stopped_by ? t('live_rec_stopped_by', { by: rec.stopped_by, reason: rec.stopped_reason || t('live_rec_no_reason') }) : rec.stopped) : null,
    isHost && rec && s.state === 'live'
      ? h(
          'div',
          { class: 'row' },
          rec.stopped
            ? h('button', { class: 'btn small danger', 'data-action': 'rec-start', onclick: () => void act(pg, 'recording', { action: 'start' }) }, icon('rec'), T('live_rec_resume'))
            : h(
                'button',
                {
                  class: 'btn small',
                  'data-action': 'rec-stop',
                  onclick: () => {
                    const reason = prompt(t('live_rec_reason'));
                    if (reason !== null) void act(pg, 'recording', { action: 'stop', reason });
                  },
                },
                icon('pause'),
                T('live_rec_stop'),
              ),
        )
      : null,
    h('div', { class: 'muted small' }, T('sess_caucus_policy'), '：', T(s.caucus_policy === 'sealed' ? 'sess_caucus_sealed' : 'sess_caucus_none')),
  );
}
