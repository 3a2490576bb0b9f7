// Reading our own state out of LiveKit room metadata and participant attributes.
// Attributes (set by the server): role, side, centre, tier, space, lobby ("1" while
// waiting), consent, session. Room metadata is a JSON object; the fields we read are
// all optional so that an older or plainer server still gives a working page.
import type { Participant, Room } from 'livekit-client';
import { t, tv } from './i18n';

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
  recording?: boolean | { active?: boolean; on?: boolean; state?: string; healthy?: boolean; error?: string };
  recording_state?: string;
  caucus_policy?: string;
  spaces?: SpaceInfo[] | Record<string, SpaceInfo | string[]>;
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

export function isRecording(m: RoomMeta): boolean {
  const r = m.recording;
  if (typeof r === 'boolean') return r;
  if (r && typeof r === 'object') {
    if (typeof r.active === 'boolean') return r.active;
    if (typeof r.on === 'boolean') return r.on;
    if (typeof r.state === 'string') return r.state === 'recording' || r.state === 'on' || r.state === 'active';
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

export function roleLabel(p: Participant): string {
  const role = attr(p, 'role');
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

export function spaceLabel(space: string, m: RoomMeta, memberNames: string[]): string {
  const info = spacesFromMeta(m).find((x) => x.id === space);
  if (info?.label) return info.label;
  if (isJointSpace(space, m)) return t('space_joint');
  if (memberNames.length) return t('space_caucus_with', { who: memberNames.join('、') });
  return t('space_caucus');
}
