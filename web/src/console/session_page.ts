// What the panels of one session page share: the session, the live view as last
// fetched, the host's call, and the actions that change the live session.
import { post, type Case, type Live, type LiveParticipant, type Session } from '../api';
import type { Call } from '../call';
import { h, T, toast } from '../dom';
import { t, tv, joinNames } from '../i18n';
import type { Ctx } from './console';
import { waitText } from './ui';

export interface SessionPage {
  ctx: Ctx;
  id: string;
  s: Session; // refetched when the session changes state
  c: Case | undefined;
  isHost: boolean;
  myIdentity: string;
  live: Live | undefined; // the live view as last fetched
  fetchedAt: number; // when live was fetched (ms), for the ticking wait times
  call: Call | undefined; // the host's own call, once joined
  refreshLive: () => Promise<void>;
}

// act posts one host control and refreshes the live view; a refusal is a toast.
export async function act(pg: SessionPage, path: string, body: unknown): Promise<void> {
  try {
    await post(`/api/sessions/${pg.id}/${path}`, body);
  } catch (e) {
    toast((e as Error).message, 'error');
  }
  await pg.refreshLive();
}

// waited is how long p has been waiting, ticking on from the last fetch.
export function waited(pg: SessionPage, p: LiveParticipant): string {
  const base = p.waiting_seconds ?? (p.joined_at ? (pg.fetchedAt - new Date(p.joined_at).getTime()) / 1000 : 0);
  return waitText(base + (Date.now() - pg.fetchedAt) / 1000);
}

export function consentChip(p: LiveParticipant): HTMLElement {
  return p.consent === true
    ? h('span', { class: 'chip ok' }, T('live_consent_yes'))
    : p.consent === false
      ? h('span', { class: 'chip bad' }, T('live_consent_no'))
      : h('span', { class: 'chip' }, T('live_consent_pending'));
}

// spaceName is a space in the reader's words: the joint session, a side's caucus, or a
// caucus named after who is in it.
export function spaceName(sp: string, members: LiveParticipant[]): string {
  if (sp === 'joint') return t('space_joint');
  const m = /^caucus-(applicant|respondent)$/.exec(sp);
  if (m) return t('live_caucus_with_side', { side: tv('side', m[1]) });
  const names = members.filter((p) => !p.host).map((p) => p.name);
  return names.length ? t('space_caucus_with', { who: joinNames(names) }) : t('space_caucus');
}
