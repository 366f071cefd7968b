import type { Logger } from '../../log.js';
import { severityRank, type Alert, type Severity } from '../../types.js';
import type { Notification, NotificationKind } from '../notification.js';
import { DeliveryError, postJson, type SinkTransport } from './sink.js';

// Slack incoming webhooks: a Block Kit message per alert, or one digest when
// many wait at once. buildSlackPayload and buildSlackDigest are pure; the
// transport maps Slack's answers: 429 → wait Retry-After, 400 → rejected
// (logged with the payload's shape, never its values), 403/404/410 → the
// webhook is gone: the sink disables itself.

// Slack's Block Kit limits.
export const SLACK_LIMITS = { blocks: 50, headerText: 150, sectionText: 3000, fieldText: 2000, fields: 10, fallbackText: 4000 } as const;

export interface SlackPayloadOptions {
  readonly dashboardUrl?: string | null;
  readonly kind?: NotificationKind;
}

interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}
type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: TextObject; url: string; action_id: string }> };

export interface SlackPayload {
  text: string;
  blocks: Block[];
}

const ICON: Record<Severity, string> = {
  info: ':information_source:',
  low: ':large_blue_circle:',
  medium: ':large_yellow_circle:',
  high: ':red_circle:',
  critical: ':rotating_light:',
};

const KIND_LABEL: Record<NotificationKind, string> = { firing: '', update: 'UPDATE · ', resolved: 'RESOLVED · ' };

export function buildSlackPayload(alert: Alert, opts: SlackPayloadOptions = {}): SlackPayload {
  const kind = opts.kind ?? 'firing';
  const icon = kind === 'resolved' ? ':white_check_mark:' : ICON[alert.severity];
  const headline = `${KIND_LABEL[kind]}${alert.severity.toUpperCase()} · ${alert.title}`;
  const blocks: Block[] = [
    { type: 'header', text: plain(clip(`${icon} ${headline}`, SLACK_LIMITS.headerText)) },
    { type: 'section', text: mrkdwn(clip(escape(alert.summary || alert.title), SLACK_LIMITS.sectionText)) },
    {
      type: 'section',
      fields: [
        field('Severity', alert.severity),
        field('Detector', alert.detector),
        field('Identity', identityLine(alert)),
        field('Route', `${alert.request.method ?? ''} ${alert.request.path ?? '-'}`.trim()),
        field('Model', alert.request.model ?? '-'),
        field('Count', `${alert.count} (first ${alert.first_seen}, last ${alert.last_seen})`),
        ...alert.evidence.slice(0, 2).map((e) => field('Evidence', `${e.kind} at ${e.location}${e.fingerprint ? ` (${e.fingerprint})` : ''}`)),
      ].slice(0, SLACK_LIMITS.fields),
    },
  ];
  const links = linkBlocks(alert, opts.dashboardUrl);
  blocks.push(...links);
  return { text: clip(`${headline} (${alert.detector})`, SLACK_LIMITS.fallbackText), blocks };
}

/** One message for many alerts (at most `SLACK_LIMITS.blocks` blocks). */
export function buildSlackDigest(batch: readonly Notification[], opts: SlackPayloadOptions = {}): SlackPayload {
  const shown = batch.slice(0, SLACK_LIMITS.blocks - 4);
  const worst = batch.reduce<Severity>((w, n) => (severityRank(n.alert.severity) > severityRank(w) ? n.alert.severity : w), 'info');
  const blocks: Block[] = [
    { type: 'header', text: plain(clip(`${ICON[worst]} gatewatch: ${batch.length} alerts`, SLACK_LIMITS.headerText)) },
    { type: 'context', elements: [mrkdwn(`Digest: many alerts arrived at once. Highest severity: *${worst}*.`)] },
  ];
  for (const n of shown) {
    const a = n.alert;
    const line = `${n.kind === 'resolved' ? ':white_check_mark:' : ICON[a.severity]} *${escape(a.title)}* · \`${escape(a.detector)}\` · ${escape(identityLine(a))} · ${escape(a.request.path ?? '-')} · ×${a.count}${KIND_LABEL[n.kind] ? ` · ${n.kind}` : ''}`;
    blocks.push({ type: 'section', text: mrkdwn(clip(line, SLACK_LIMITS.sectionText)) });
  }
  if (opts.dashboardUrl && isHttpUrl(opts.dashboardUrl)) {
    blocks.push({ type: 'actions', elements: [button('Dashboard', opts.dashboardUrl, 'dashboard')] });
  }
  return { text: `gatewatch: ${batch.length} alerts (highest: ${worst})`, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

export interface SlackSinkOptions {
  readonly name: string;
  readonly url: string;
  readonly digestThreshold: number;
  readonly digestMax: number;
  readonly dashboardUrl: string | null;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export function createSlackTransport(opts: SlackSinkOptions): SinkTransport {
  return {
    name: opts.name,
    batchSize: (queued) => (queued >= opts.digestThreshold ? Math.min(queued, opts.digestMax) : 1),
    async send(batch, signal) {
      const payload =
        batch.length === 1
          ? buildSlackPayload(batch[0]!.alert, { dashboardUrl: opts.dashboardUrl, kind: batch[0]!.kind })
          : buildSlackDigest(batch, { dashboardUrl: opts.dashboardUrl });
      const res = await postJson(opts.url, JSON.stringify(payload), {}, opts.timeoutMs, signal);
      if (res.status >= 200 && res.status < 300) return;
      const reason = /^[a-z_]{1,64}$/.test(res.text) ? res.text : 'unknown';
      if (res.status === 429) throw new DeliveryError('GW_ERR_SINK_RATE_LIMITED', 'Slack rate limited the webhook (429)', 'retry', res.retryAfterMs ?? 1000);
      if (res.status === 400) {
        opts.logger.error({ sink: opts.name, status: 400, reason, payloadShape: shapeOf(payload) }, 'alerts: Slack refused the payload');
        throw new DeliveryError('GW_ERR_SINK_REJECTED', `Slack refused the payload (400 ${reason})`, 'reject');
      }
      if (res.status === 403 || res.status === 404 || res.status === 410) {
        throw new DeliveryError('GW_ERR_SINK_DISABLED', `Slack webhook is not usable (${res.status} ${reason}): revoked, removed or archived channel`, 'disable');
      }
      throw new DeliveryError('GW_ERR_SINK_UNAVAILABLE', `Slack answered ${res.status}`, 'retry', res.retryAfterMs);
    },
  };
}

/** The structure of a value with every string replaced by its length: safe to log. */
export function shapeOf(value: unknown): unknown {
  if (typeof value === 'string') return `string(${value.length})`;
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'type' ? v : shapeOf(v)]));
  return typeof value;
}

function linkBlocks(alert: Alert, dashboardUrl: string | null | undefined): Block[] {
  const buttons = [];
  const notes: TextObject[] = [];
  if (alert.runbook) {
    if (isHttpUrl(alert.runbook)) buttons.push(button('Runbook', alert.runbook, 'runbook'));
    else notes.push(mrkdwn(clip(`Runbook: ${escape(alert.runbook)}`, SLACK_LIMITS.fieldText)));
  }
  if (dashboardUrl && isHttpUrl(dashboardUrl)) buttons.push(button('Dashboard', dashboardUrl, 'dashboard'));
  notes.push(mrkdwn(`alert \`${alert.id}\`${alert.request.trace_id ? ` · trace \`${escape(alert.request.trace_id)}\`` : ''}`));
  const out: Block[] = [{ type: 'context', elements: notes }];
  if (buttons.length > 0) out.push({ type: 'actions', elements: buttons });
  return out;
}

function identityLine(a: Alert): string {
  const i = a.identity;
  const parts = [i.key_fingerprint && `key ${i.key_fingerprint}${i.key_type ? ` (${i.key_type})` : ''}`, i.user && `user ${i.user}`, i.team && `team ${i.team}`, i.client_ip && `ip ${i.client_ip}`];
  return parts.filter(Boolean).join(', ') || '-';
}

function field(name: string, value: string): TextObject {
  return mrkdwn(clip(`*${name}*\n${escape(value)}`, SLACK_LIMITS.fieldText));
}

function button(text: string, url: string, actionId: string) {
  return { type: 'button' as const, text: plain(text), url, action_id: actionId };
}

function plain(text: string): TextObject {
  return { type: 'plain_text', text };
}

function mrkdwn(text: string): TextObject {
  return { type: 'mrkdwn', text };
}

/** Slack's mrkdwn control characters: values from traffic (model, path) must not form links or mentions. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\/\S+$/.test(url) && url.length <= 3000;
}
