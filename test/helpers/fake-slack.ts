import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream } from './servers.js';

// A local server that behaves like a Slack incoming webhook: it checks Block
// Kit limits (400 invalid_payload / invalid_blocks), and can be told to
// answer 429 with Retry-After, 400, 403, 404 no_team, 500, to answer
// slowly, or to reset connections ("down"). It records every valid payload.

export type SlackMode = 'ok' | 'rate_limited' | 'bad_request' | 'forbidden' | 'no_team' | 'error' | 'slow' | 'down';

export interface FakeSlack {
  readonly url: string;
  /** Valid payloads accepted with 200 ok, in order. */
  readonly accepted: unknown[];
  /** Every raw body received, whatever the answer. */
  readonly bodies: string[];
  /** Requests answered 429. */
  readonly rateLimited: number[];
  readonly hits: number;
  mode: SlackMode;
  retryAfterSeconds: number;
  slowMs: number;
  /** Responses to give first, one per request, before falling back to `mode`. */
  script(modes: SlackMode[]): void;
  close(): Promise<void>;
}

export const BLOCK_KIT_LIMITS = { blocks: 50, headerText: 150, sectionText: 3000, fieldText: 2000, fields: 10, contextElements: 10, actionElements: 25, buttonText: 75, url: 3000 } as const;

/** Returns Slack's error word for a payload that breaks Block Kit's rules, or undefined when it is valid. */
export function blockKitProblem(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return 'invalid_payload';
  const p = payload as { text?: unknown; blocks?: unknown };
  if (p.text === undefined && p.blocks === undefined) return 'no_text';
  if (p.text !== undefined && typeof p.text !== 'string') return 'invalid_payload';
  if (p.blocks === undefined) return undefined;
  if (!Array.isArray(p.blocks) || p.blocks.length > BLOCK_KIT_LIMITS.blocks) return 'invalid_blocks';
  for (const b of p.blocks as Array<Record<string, unknown>>) {
    if (!validBlock(b)) return 'invalid_blocks';
  }
  return undefined;
}

function text(o: unknown, max: number, types: string[] = ['plain_text', 'mrkdwn']): boolean {
  if (!o || typeof o !== 'object') return false;
  const t = o as { type?: unknown; text?: unknown };
  return typeof t.type === 'string' && types.includes(t.type) && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;
}

function validBlock(b: Record<string, unknown>): boolean {
  switch (b.type) {
    case 'header':
      return text(b.text, BLOCK_KIT_LIMITS.headerText, ['plain_text']);
    case 'section': {
      if (b.text === undefined && b.fields === undefined) return false;
      if (b.text !== undefined && !text(b.text, BLOCK_KIT_LIMITS.sectionText)) return false;
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > BLOCK_KIT_LIMITS.fields) return false;
        if (!b.fields.every((f) => text(f, BLOCK_KIT_LIMITS.fieldText))) return false;
      }
      return true;
    }
    case 'context':
      return Array.isArray(b.elements) && b.elements.length > 0 && b.elements.length <= BLOCK_KIT_LIMITS.contextElements && b.elements.every((e) => text(e, BLOCK_KIT_LIMITS.sectionText));
    case 'divider':
      return true;
    case 'actions':
      return (
        Array.isArray(b.elements) &&
        b.elements.length > 0 &&
        b.elements.length <= BLOCK_KIT_LIMITS.actionElements &&
        b.elements.every((e: Record<string, unknown>) => e.type === 'button' && text(e.text, BLOCK_KIT_LIMITS.buttonText, ['plain_text']) && typeof e.url === 'string' && e.url.length <= BLOCK_KIT_LIMITS.url && /^https?:\/\//.test(e.url))
      );
    default:
      return false;
  }
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const accepted: unknown[] = [];
  const bodies: string[] = [];
  const rateLimited: number[] = [];
  const scripted: SlackMode[] = [];
  let hits = 0;

  const state = { mode: 'ok' as SlackMode, retryAfterSeconds: 1, slowMs: 2000 };

  const answer = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/html', ...headers }).end(body);
  };

  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits++;
      const raw = Buffer.concat(chunks).toString('utf8');
      bodies.push(raw);
      const mode = scripted.shift() ?? state.mode;
      switch (mode) {
        case 'down':
          req.socket.destroy();
          return;
        case 'rate_limited':
          rateLimited.push(Date.now());
          return answer(res, 429, 'rate_limited', { 'retry-after': String(state.retryAfterSeconds) });
        case 'bad_request':
          return answer(res, 400, 'invalid_payload');
        case 'forbidden':
          return answer(res, 403, 'action_prohibited');
        case 'no_team':
          return answer(res, 404, 'no_team');
        case 'error':
          return answer(res, 500, 'internal_error');
        default:
          break;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(raw);
      } catch {
        return answer(res, 400, 'invalid_payload');
      }
      const problem = blockKitProblem(payload);
      if (problem) return answer(res, 400, problem);
      const ok = () => {
        accepted.push(payload);
        answer(res, 200, 'ok');
      };
      if (mode === 'slow') setTimeout(ok, state.slowMs).unref();
      else ok();
    });
  });
  const { port } = upstream;

  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXXSECRETPATH`,
    accepted,
    bodies,
    rateLimited,
    get hits() {
      return hits;
    },
    get mode() {
      return state.mode;
    },
    set mode(m: SlackMode) {
      state.mode = m;
    },
    get retryAfterSeconds() {
      return state.retryAfterSeconds;
    },
    set retryAfterSeconds(s: number) {
      state.retryAfterSeconds = s;
    },
    get slowMs() {
      return state.slowMs;
    },
    set slowMs(ms: number) {
      state.slowMs = ms;
    },
    script(modes) {
      scripted.push(...modes);
    },
    close: upstream.close,
  };
}
