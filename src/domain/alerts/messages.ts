/**
 * What a notification says, and how each channel type says it. A firing stores its
 * facts (`FiringPayload`) when it is recorded; the message is rendered from them at send
 * time, so every attempt of a notification sends the same thing.
 */
export interface Fact {
  label: string;
  value: string;
}

export interface FiringPayload {
  title: string;
  text: string;
  /** Where to look: the issue, event, log search, dump or monitor in the admin. */
  url: string;
  level?: string | null;
  facts?: Fact[];
  issue?: { id: string; title: string; culprit: string | null; level: string; status: string; times_seen: number; url: string };
  event?: { id: string; event_id: string; environment: string | null; service: string | null; level: string; message: string; url: string };
  monitor?: { id: number; slug: string; name: string; status: string; expected_at?: string | null; check_in_id?: string; url: string };
  dump?: { id: string; label: string | null; crash_reason: string | null; main_module: string | null; url: string };
  llm?: { metric: string; model: string | null; calls: number };
}

export type MessageType = 'alert.firing' | 'alert.recovered' | 'alert.digest' | 'alert.test';

export interface FiringSummary extends FiringPayload {
  id: string;
  trigger: string;
  trigger_key: string;
  kind: 'firing' | 'recovered' | 'test';
  window_start: string | null;
  window_end: string | null;
  value: number | null;
  threshold: number | null;
  created_at: string;
}

/** The webhook body, documented in the README ("Alerts" → webhook payload). Other channels render from it. */
export interface Message {
  /** The notification's idempotency key: the same on every attempt (also the Idempotency-Key header). */
  id: string;
  type: MessageType;
  created_at: string;
  project: { id: number; name: string };
  rule: { id: number; name: string; trigger: string } | null;
  title: string;
  text: string;
  url: string;
  /** A single firing's facts; a digest has `firings` instead. */
  firing?: FiringSummary;
  firings?: FiringSummary[];
  firings_total?: number;
}

const DIGEST_LISTED = 20;

export function messageFor(input: {
  idempotencyKey: string;
  project: { id: number; name: string };
  rule: Message['rule'];
  firings: FiringSummary[];
  digest: { total: number; minutes: number } | null;
}): Message {
  const { firings, digest } = input;
  if (!digest) {
    const f = firings[0];
    return {
      id: input.idempotencyKey,
      type: f.kind === 'test' ? 'alert.test' : f.kind === 'recovered' ? 'alert.recovered' : 'alert.firing',
      created_at: f.created_at,
      project: input.project,
      rule: input.rule,
      title: f.title,
      text: f.text,
      url: f.url,
      firing: f,
    };
  }
  const listed = firings.slice(0, DIGEST_LISTED);
  const more = digest.total - listed.length;
  return {
    id: input.idempotencyKey,
    type: 'alert.digest',
    created_at: firings[firings.length - 1]?.created_at ?? new Date().toISOString(),
    project: input.project,
    rule: input.rule,
    title: `${input.rule?.name ?? 'Alerts'}: ${digest.total} alert${digest.total === 1 ? '' : 's'} in ${digest.minutes} min`,
    text: listed.map((f) => `• ${f.title}`).join('\n') + (more > 0 ? `\n… and ${more} more` : ''),
    url: listed[0]?.url ?? '',
    firings: listed,
    firings_total: digest.total,
  };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const htmlEscape = (s: string) => slackEscape(s).replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const EMOJI: Record<MessageType, string> = {
  'alert.firing': ':rotating_light:',
  'alert.recovered': ':white_check_mark:',
  'alert.digest': ':bell:',
  'alert.test': ':wave:',
};
const COLOR: Record<MessageType, number> = {
  'alert.firing': 0xe8336d,
  'alert.recovered': 0x2e9e5b,
  'alert.digest': 0xf2a900,
  'alert.test': 0x5865f2,
};

const footer = (m: Message) => `${m.project.name}${m.rule ? ` · rule “${m.rule.name}” (${m.rule.trigger})` : ''}`;
const factsOf = (m: Message): Fact[] => m.firing?.facts ?? [];

/** Slack incoming webhooks (Block Kit); Mattermost takes the same body (it reads `text`). */
export function slackBody(m: Message): unknown {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(m.title, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(m.text || ' '), 2900) } },
  ];
  const facts = factsOf(m).slice(0, 10);
  if (facts.length)
    blocks.push({
      type: 'section',
      fields: facts.map((f) => ({ type: 'mrkdwn', text: clip(`*${slackEscape(f.label)}*\n${slackEscape(f.value)}`, 2000) })),
    });
  if (m.firings) {
    for (const f of m.firings.slice(0, 10)) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`<${f.url}|${slackEscape(f.title)}>`, 2900) } });
    }
  }
  if (m.url)
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Faultline' }, url: m.url }] });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(slackEscape(footer(m)), 2900) }] });
  return { text: clip(`${EMOJI[m.type]} ${slackEscape(m.title)}`, 3000), blocks };
}

/** Discord webhooks: one embed; mentions are never parsed, so an event message cannot ping @everyone. */
export function discordBody(m: Message): unknown {
  const fields = [
    ...factsOf(m)
      .slice(0, 20)
      .map((f) => ({ name: clip(f.label, 256), value: clip(f.value || '—', 1024), inline: true })),
    ...(m.firings ?? []).slice(0, 5).map((f) => ({ name: clip(f.title, 256), value: clip(f.url, 1024), inline: false })),
  ];
  return {
    content: clip(m.title, 2000),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: clip(m.title, 256),
        description: clip(m.text, 4096),
        url: m.url || undefined,
        color: COLOR[m.type],
        fields,
        footer: { text: clip(footer(m), 2048) },
        timestamp: m.created_at,
      },
    ],
  };
}

export function emailBody(m: Message): { subject: string; text: string; html: string } {
  const facts = factsOf(m);
  const text = [
    m.title,
    '',
    m.text,
    '',
    ...facts.map((f) => `${f.label}: ${f.value}`),
    ...(m.firings ?? []).map((f) => `- ${f.title}\n  ${f.url}`),
    '',
    m.url ? `Open in Faultline: ${m.url}` : '',
    '',
    `-- ${footer(m)}`,
  ].join('\n');
  const rows = facts
    .map((f) => `<tr><th align="left" style="padding:2px 12px 2px 0">${htmlEscape(f.label)}</th><td>${htmlEscape(f.value)}</td></tr>`)
    .join('');
  const list = (m.firings ?? []).map((f) => `<li><a href="${htmlEscape(f.url)}">${htmlEscape(f.title)}</a></li>`).join('');
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<h2 style="color:#${COLOR[m.type].toString(16).padStart(6, '0')}">${htmlEscape(m.title)}</h2>` +
    `<p style="white-space:pre-wrap">${htmlEscape(m.text)}</p>` +
    (rows ? `<table>${rows}</table>` : '') +
    (list ? `<ul>${list}</ul>` : '') +
    (m.url ? `<p><a href="${htmlEscape(m.url)}">Open in Faultline</a></p>` : '') +
    `<p style="color:#888;font-size:12px">${htmlEscape(footer(m))}</p></body></html>`;
  return { subject: clip(`[Faultline] ${m.title}`, 250), text, html };
}
