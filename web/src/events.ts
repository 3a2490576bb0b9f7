// Timeline and case-file events in the reader's language. The server sends what
// happened as data (kind, actor, subject, fields); the words are ours. Events from
// before (or from parts that only write free text) carry a detail instead.
import { fmtTime } from './dom';
import { getLang, hasKey, t, tv, type Key } from './i18n';

export interface EventData {
  kind: string;
  actor?: string;
  subject?: string;
  fields?: Record<string, string> | null;
  detail?: string | Record<string, string> | null;
}

/** A space in words: the waiting room, the joint session, a side's or a private room. */
export function spaceWords(space: string | undefined): string {
  if (!space) return t('space_lobby');
  if (space === 'joint' || space === 'main') return t('space_joint');
  const m = /^caucus-(applicant|respondent)$/.exec(space);
  if (m) return t('live_caucus_with_side', { side: tv('side', m[1]) });
  return t('space_caucus');
}

/** Who someone is: their role, and their side when it says more. */
export function roleWords(role: string | undefined, side?: string): string {
  if (role === 'party' && side) return tv('role', side);
  const r = tv('role', role);
  return side && side !== 'none' && role ? `${r} · ${tv('side', side)}` : r;
}

/** The sentence for one event; '' when the event has nothing beyond its kind. */
export function eventText(e: EventData): string {
  const f = e.fields ?? (e.detail && typeof e.detail === 'object' ? e.detail : null);
  if (f && Object.keys(f).length) {
    let key = 'evd_' + e.kind;
    if (e.kind === 'mute' && f.muted === '0') key = 'evd_unmute';
    if (e.kind === 'consent' && f.answer === 'declined') key = 'evd_consent_declined';
    if (e.kind === 'recording') key = f.action === 'stop' ? 'evd_recording_stop' : 'evd_recording_start';
    if (hasKey(key)) {
      const params: Record<string, string> = { ...f };
      params.role = roleWords(f.role, f.side);
      if ('space' in f) params.where = spaceWords(f.space);
      if (f.reason !== undefined && e.kind === 'leave') params.reason = tv('leave_reason', f.reason);
      if (f.expires) params.expires = fmtTime(f.expires);
      let s = t(key as Key, params);
      if (e.kind === 'recording' && f.reason && f.action !== 'stop') s += (getLang() === 'zh' ? '：' : ': ') + f.reason;
      return s;
    }
  }
  if (typeof e.detail === 'string') return e.detail;
  return '';
}

// The case file's event log says what happened in the past tense (recording.Kind*); the
// timeline's words for the same events.
const fromCaseFile: Record<string, string> = {
  joined: 'join',
  left: 'leave',
  admitted: 'admit',
  moved: 'move',
  muted: 'mute',
  sent_to_lobby: 'lobby',
  denied: 'deny',
  removed: 'remove',
  end_requested: 'end',
};

export function caseFileKind(kind: string): string {
  return fromCaseFile[kind] ?? kind;
}
