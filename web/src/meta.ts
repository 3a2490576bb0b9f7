// Reading our own state out of LiveKit room metadata and participant attributes.
// Attributes (set by the server): role, side, centre, tier, space, lobby ("1" while
// waiting), consent, session. Room metadata is a JSON object; the fields we read are
// all optional so that an older or plainer server still gives a working page.
import type { Participant, Room } from 'livekit-client';
import { t, tv, joinNames } from './i18n';

export interface SpaceInfo {
  id: string;
  kind?: string; // "joint" | "caucus" | "lobby"
  label?: string;
  members?: string[]; // identities
}

export interface RoomMeta {
  title?: string;
  kind?: string;
  session?: string;
  case?: string;
  recording?: boolean | { active?: boolean; on?: boolean; state?: string; healthy?: boolean; error?: string } | Record<string, unknown>;
  recording_state?: string;
  caucus_policy?: string;
  spaces?: SpaceInfo[] | Record<string, Omit<SpaceInfo, 'id'> | string[]>;
  ended?: boolean;
  state?: string;
  [k: string]: unknown;
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

/**
 * Whether my space is being recorded. The metadata may say it for the room
 * (`recording: true` or `{active: true}`) or per space (`recording: {"joint": true}`,
 * or `recording_spaces: ["joint"]`): a caucus that is not recorded must not show the dot.
 */
export function isRecording(m: RoomMeta, space = ''): boolean {
  const sp = space || 'joint';
  // a caucus under the "off" policy is never recorded, whatever the room-wide flag says
  if (m.caucus_policy === 'off' && !isJointSpace(space, m)) return false;
  const list = (m as { recording_spaces?: unknown }).recording_spaces;
  if (Array.isArray(list)) return list.includes(sp) || (space === '' && list.includes('main'));
  const r = m.recording as unknown;
  if (typeof r === 'boolean') return r;
  if (r && typeof r === 'object' && !Array.isArray(r)) {
    const byKey = r as Record<string, unknown>;
    if (typeof byKey[sp] === 'boolean') return byKey[sp] as boolean;
    if (byKey[sp] && typeof byKey[sp] === 'object') return !!(byKey[sp] as { active?: boolean; record?: boolean }).active || !!(byKey[sp] as { record?: boolean }).record;
  }
  if (r && typeof r === 'object') {
    const o = r as { active?: boolean; on?: boolean; state?: string };
    if (typeof o.active === 'boolean') return o.active;
    if (typeof o.on === 'boolean') return o.on;
    if (typeof o.state === 'string') return o.state === 'recording' || o.state === 'on' || o.state === 'active';
  }
  if (typeof m.recording_state === 'string') return m.recording_state === 'recording' || m.recording_state === 'on';
  return false;
}

export function spacesFromMeta(m: RoomMeta): SpaceInfo[] {
  const s = m.spaces;
  if (!s) return [];
  if (Array.isArray(s)) return s.filter((x) => x && typeof x.id === 'string');
  return Object.entries(s).map(([id, v]) => (Array.isArray(v) ? { id, members: v } : { ...v, id }));
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

export function isJointSpace(space: string, m?: RoomMeta): boolean {
  if (space === '' || space === 'joint' || space === 'main') return true;
  const info = m ? spacesFromMeta(m).find((x) => x.id === space) : undefined;
  return info?.kind === 'joint';
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

/** A space's name for people: ours (translated) first, the server's label for others. */
export function spaceLabel(space: string, m: RoomMeta, memberNames: string[]): string {
  if (isJointSpace(space, m)) return t('space_joint');
  if (memberNames.length) return t('space_caucus_with', { who: joinNames(memberNames) });
  const info = spacesFromMeta(m).find((x) => x.id === space);
  if (info?.label) return info.label;
  return t('space_caucus');
}
