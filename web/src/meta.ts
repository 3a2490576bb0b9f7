// Reading our own state out of LiveKit room metadata and participant attributes.
// Attributes: role, side, centre, tier, consent, session (mediation mints them); space,
// lobby ("1" while waiting; signaling sets them). Room metadata is a JSON object; the fields
// we read are all optional so that a plain room still gives a working page.
import type { Participant, Room } from 'livekit-client';
import { t, tv, joinNames } from './i18n';

/**
 * The room metadata the server writes (mediation/roommeta.go, roomMetaJSON): what the
 * session is and, for the joint space and every space with someone in it, whether it is
 * being recorded. No words: we name the spaces. Every field is optional, so that a plain
 * room (no metadata) still gives a working page.
 */
export interface SpaceMeta {
  recording?: boolean;
}

export interface RoomMeta {
  title?: string;
  kind?: string; // mediation | reception | consultation
  caucus_policy?: string; // off | sealed
  recording?: boolean; // some space is being recorded
  spaces?: Record<string, SpaceMeta>;
}

export function roomMeta(room: Room): RoomMeta {
  const raw = room.metadata;
  if (!raw) return {};
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' ? (v as RoomMeta) : {};
  } catch {
    return {};
  }
}

/** Whether my space is being recorded: the lobby never is; a space the metadata does not list is not. */
export function isRecording(m: RoomMeta, space: string): boolean {
  if (!space) return false;
  const sp = m.spaces?.[space];
  if (sp) return sp.recording === true;
  return space === 'main' && m.recording === true; // a plain room has one space
}

/** The spaces the metadata lists. */
export function spacesFromMeta(m: RoomMeta): string[] {
  return Object.keys(m.spaces ?? {});
}

export function attr(p: Participant | undefined, k: string): string {
  return (p?.attributes && p.attributes[k]) || '';
}

export function inLobby(p: Participant): boolean {
  return attr(p, 'lobby') === '1';
}

export function spaceOf(p: Participant): string {
  return attr(p, 'space');
}

export function isJointSpace(space: string): boolean {
  return space === '' || space === 'joint' || space === 'main';
}

/** The role as people say it; a host is the mediator (or the leader, in a reception). */
export function roleLabel(p: Participant, kind?: string): string {
  let role = attr(p, 'role');
  if (role === 'host' && kind) role = kind === 'reception' ? 'leader' : 'mediator';
  const side = attr(p, 'side');
  const parts: string[] = [];
  if (role === 'party' && side) parts.push(tv('role', side));
  else if (role) parts.push(tv('role', role));
  if (role && role !== 'party' && side && side !== 'none') parts.push(tv('side', side));
  return parts.join(' · ');
}

export function displayName(p: Participant): string {
  return p.name || p.identity;
}

/** A space's name for people: the joint session, a caucus with whoever is in it, with a side, or just a caucus. */
export function spaceLabel(space: string, memberNames: string[]): string {
  if (isJointSpace(space)) return t('space_joint');
  if (memberNames.length) return t('space_caucus_with', { who: joinNames(memberNames) });
  const side = /^caucus-(applicant|respondent)$/.exec(space);
  if (side) return t('live_caucus_with_side', { side: tv('side', side[1]) });
  return t('space_caucus');
}
