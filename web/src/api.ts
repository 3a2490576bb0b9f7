// The /api client (docs/API.md). Errors carry the server's stable code.
export class ApiError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', (e as Error).message);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const d = (data ?? {}) as { error?: string; code?: string };
    throw new ApiError(res.status, d.code || 'http_' + res.status, d.error || text || res.statusText);
  }
  return data as T;
}

export const get = <T>(p: string) => api<T>('GET', p);
export const post = <T>(p: string, b?: unknown) => api<T>('POST', p, b ?? {});
export const patch = <T>(p: string, b: unknown) => api<T>('PATCH', p, b);
export const del = <T>(p: string) => api<T>('DELETE', p);

// ---- objects (docs/API.md) ----
export interface Centre { code: string; name: string; tier: string; parent?: string }
export interface Staff { username: string; name: string; centre: string; centre_name?: string; tier?: string; roles: string[]; gold?: boolean }
export interface Party { id: number; name: string; side: string; phone?: string }
export interface CaseEvent { id: number; time: string; kind: string; actor?: string; session_id?: number; subject?: string; detail?: string; fields?: Record<string, string> | null }
export interface Session {
  id: number; case_id: number; case_number?: string; case_title?: string; centre?: string; kind: string; title: string;
  scheduled_at?: string; hosts?: string[]; room?: string; state: string; caucus_policy?: string; record_on_open?: boolean; created_at?: string;
  invitations?: Invitation[];
}
export interface Case {
  id: number; number: string; title: string; category: string; risk: string; status: string; centre: string; centre_name?: string;
  tier?: string; mediator?: string; mediator_name?: string; outcome?: string; description?: string; parties: Party[];
  created_at?: string; updated_at?: string; timeline?: CaseEvent[]; sessions?: Session[]; supervisions?: Supervision[];
  informed_by?: string; closed_at?: string;
}
export interface Supervision { id: number; case_id: number; unit: string; deadline: string; done: boolean }
export interface Invitation {
  code: string; url: string; session_id: number; role: string; side?: string; name: string; party?: number; identity?: string;
  expires_at?: string; revoked?: boolean; created_at?: string;
}
export interface LiveTrack { sid: string; kind: string; source: string; muted: boolean }
export interface LiveParticipant {
  identity: string; name: string; role: string; side?: string; party?: number; space: string; lobby: boolean; connected: boolean;
  joined_at?: string; waiting_seconds?: number; consent?: boolean | null; host?: boolean; tracks?: LiveTrack[]; note?: string;
  link?: LiveLink;
  mute_locked?: string[]; // sources a host's locked mute holds (issue 12); only a host lifts it
}
/** A participant's link as the server sees it (issue 13). */
export interface LiveLink {
  quality: '' | 'excellent' | 'good' | 'poor' | 'lost'; loss: number; rtt_ms: number; jitter_ms: number;
  estimate_kbps: number; sent_kbps: number; video_paused: number; layers: number[];
}
export interface Live {
  session_id: number; state: string; room: string; lobby: LiveParticipant[]; spaces: Record<string, LiveParticipant[]>;
  participants: LiveParticipant[]; absent?: { identity: string; name: string; role: string; side?: string }[];
  recording?: RecordingState;
}
export interface RecordingState {
  active?: boolean; state?: string; healthy?: boolean; error?: string; started_at?: string; tracks?: number;
  spaces?: { space: string; record: boolean; sealed?: boolean; reason: string }[];
  stopped?: string; // a host's stop in one line (older servers); '' while it follows the policy
  stopped_by?: string; // the host who stopped it
  stopped_reason?: string; // the reason they gave, '' if none
}
export interface JoinInfo {
  role: string; side?: string; name: string;
  session: { id: number; title: string; kind: string; state: string; scheduled_at?: string; caucus_policy?: string; record_on_open?: boolean };
  centre?: { code: string; name: string; tier: string };
  notice?: string; invited_by?: string; inviter?: { name?: string; username?: string } | string; case_title?: string;
}
export interface Join { url: string; token: string; identity: string; session: Session }
export interface StatRow { key: string; accepted: number; closed: number; closure_rate: number }
export interface Stats { by: string; rows: StatRow[]; total: StatRow }
