import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { config } from '../../config.ts';
import type { ChannelType } from '../../entities/AlertChannel.ts';
import { HttpFailure, postBody, type HttpLimits, defaultLimits } from './http.ts';
import { discordBody, emailBody, slackBody, type Message } from './messages.ts';

/** What a channel needs to send, unsealed just for the attempt. */
export interface ChannelTarget {
  type: ChannelType;
  url?: string;
  /** The webhook signing secret. */
  secret?: string;
  /** Email: resolved recipients. */
  recipients?: string[];
}

export interface SendResult {
  outcome: 'sent' | 'retry' | 'failed';
  statusCode: number | null;
  error: string | null;
  /** A receiver's Retry-After, when it gave one. */
  retryAfterMs: number | null;
}

const USER_AGENT = 'Faultline-Alerts/0.1';
const MAX_RETRY_AFTER_MS = 3_600_000;

/** Retry-After as seconds or an HTTP date; capped at an hour. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return null;
  const ms = /^\s*\d+\s*$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

/**
 * The signature receivers check: HMAC-SHA256 over `<timestamp>.<body>` under the channel's
 * secret, hex, sent as `X-Faultline-Signature: sha256=<hex>` with `X-Faultline-Timestamp`.
 */
export function signature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** An HTTP answer as an outcome: 2xx sent; 429 and 5xx retried (honouring Retry-After); anything else final. */
function judge(status: number, headers: Record<string, string | string[] | undefined>, body: string): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'sent', statusCode: status, error: null, retryAfterMs: null };
  const error = `HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ''}`;
  if (status === 429 || status >= 500)
    return { outcome: 'retry', statusCode: status, error, retryAfterMs: retryAfterMs(headers['retry-after']) };
  const why =
    status >= 300 && status < 400
      ? `HTTP ${status} (redirects are not followed${headers.location ? `: ${String(headers.location).slice(0, 200)}` : ''})`
      : error;
  return { outcome: 'failed', statusCode: status, error: why, retryAfterMs: null };
}

async function postJson(url: string, body: string, headers: Record<string, string>, limits: HttpLimits): Promise<SendResult> {
  try {
    const answer = await postBody(url, body, { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...headers }, limits);
    return judge(answer.status, answer.headers, answer.body);
  } catch (err) {
    if (err instanceof HttpFailure) {
      // A refused target stays refused; DNS, timeouts and broken connections may heal.
      return { outcome: err.kind === 'refused' ? 'failed' : 'retry', statusCode: null, error: err.message, retryAfterMs: null };
    }
    throw err;
  }
}

let transport: { url: string; t: Transporter } | null = null;

/** SMTP_URL (smtp:// or smtps://user:pass@host:port) as nodemailer transport options, with our timeouts. */
export function smtpOptions(smtpUrl: string) {
  const u = new URL(smtpUrl);
  const secure = u.protocol === 'smtps:';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    // ?ignore_tls=true (a local relay that offers no STARTTLS worth using); STARTTLS is used when offered otherwise.
    ignoreTLS: u.searchParams.get('ignore_tls') === 'true',
    connectionTimeout: config.alerts.connectTimeoutMs,
    greetingTimeout: config.alerts.connectTimeoutMs,
    socketTimeout: config.alerts.timeoutMs,
  };
}

function smtp(): Transporter {
  const url = config.alerts.smtpUrl;
  if (!url) throw new Error('SMTP_URL is not set');
  if (transport?.url !== url) transport = { url, t: nodemailer.createTransport(smtpOptions(url)) };
  return transport.t;
}

async function sendEmail(target: ChannelTarget, m: Message): Promise<SendResult> {
  const to = target.recipients ?? [];
  if (!to.length)
    return {
      outcome: 'failed',
      statusCode: null,
      error: 'no recipients (no addresses, and nobody in the chosen roles)',
      retryAfterMs: null,
    };
  if (!config.alerts.smtpUrl) return { outcome: 'failed', statusCode: null, error: 'SMTP_URL is not set', retryAfterMs: null };
  const { subject, text, html } = emailBody(m);
  try {
    const info = await smtp().sendMail({
      from: config.alerts.smtpFrom,
      to,
      subject,
      text,
      html,
      // Receivers (and people) can drop a repeat: the same Message-ID on every attempt.
      messageId: `<${m.id}@faultline.alerts>`,
      headers: { 'Idempotency-Key': m.id, 'X-Faultline-Alert': m.type },
    });
    const code = Number(/^(\d{3})/.exec(String(info.response ?? ''))?.[1] ?? 250);
    return { outcome: 'sent', statusCode: code, error: null, retryAfterMs: null };
  } catch (err) {
    const e = err as { responseCode?: number; code?: string; message: string };
    // SMTP is the other way round from HTTP: 4xx is "try again later", 5xx is final.
    const permanent =
      typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode !== 503
        ? true
        : e.code === 'EENVELOPE' && !e.responseCode;
    return {
      outcome: permanent ? 'failed' : 'retry',
      statusCode: e.responseCode ?? null,
      error: `${e.code ?? 'SMTP'}: ${e.message}`.slice(0, 500),
      retryAfterMs: null,
    };
  }
}

export async function send(target: ChannelTarget, m: Message, limits: HttpLimits = defaultLimits()): Promise<SendResult> {
  switch (target.type) {
    case 'webhook': {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const body = JSON.stringify(m);
      const headers: Record<string, string> = { 'Idempotency-Key': m.id, 'X-Faultline-Event': m.type, 'X-Faultline-Timestamp': timestamp };
      if (target.secret) headers['X-Faultline-Signature'] = `sha256=${signature(target.secret, timestamp, body)}`;
      return postJson(target.url!, body, headers, limits); // exactly the text that was signed
    }
    case 'slack':
      return postJson(target.url!, JSON.stringify(slackBody(m)), { 'Idempotency-Key': m.id }, limits);
    case 'discord':
      return postJson(target.url!, JSON.stringify(discordBody(m)), { 'Idempotency-Key': m.id }, limits);
    case 'email':
      return sendEmail(target, m);
  }
}
