/**
 * Browser security reports, what browsers send by themselves to the URL in a policy
 * header (POST /api/{id}/security/): CSP `report-uri` (`{"csp-report": {...}}`), the
 * Reporting API (`report-to` / Reporting-Endpoints: a list of `{type, url, body, …}`),
 * HPKP, Expect-CT and Expect-Staple. Each becomes a Sentry-style event with its
 * interface (`csp`, `hpkp`, `expectct`, `expectstaple` — the same shape a security event
 * sent to /store/ has), which normalize.ts turns into an error event of its own kind:
 * event_type "csp", exception type "CSP", message "Blocked 'script' from 'evil.example'",
 * grouped by directive and blocked host. Reporting API reports that are not CSP
 * (deprecation, intervention, crash, network-error, …) become logs from source
 * `browser-reports`.
 *
 * Messages, culprits and the noise filter follow Sentry's security interfaces.
 */
import { createHash } from 'node:crypto';
import { cleanJson, cleanText, clip, type EventRecord } from '../../../events/record.ts';
import { isObj } from '../../../events/structured.ts';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;

export type SecurityKind = 'csp' | 'hpkp' | 'expectct' | 'expectstaple';

/** Where the logs made of non-CSP Reporting API reports show up (`GET /api/logs/?source=browser-reports`). */
export const BROWSER_REPORTS_SOURCE = 'browser-reports';

/** What the request says besides its body: Sentry's query parameters and the browser's headers. */
export interface ReportContext {
  userAgent?: string;
  environment?: string;
  release?: string;
}

/** A parsed report body: security events (for normalize.ts) and other browser reports (already logs). */
export interface ParsedReports {
  events: Obj[];
  logs: Array<Omit<EventRecord, 'project_id' | 'received_at'>>;
  /** Reports that were not reports at all (no body, unknown shape): counted. */
  invalid: number;
}

/** CSP report fields, as `report-uri` (kebab-case) and the Reporting API (camelCase) name them → Relay's names. */
const CSP_FIELDS: Record<string, string> = {
  'document-uri': 'document_uri',
  documentURL: 'document_uri',
  referrer: 'referrer',
  'violated-directive': 'violated_directive',
  'effective-directive': 'effective_directive',
  effectiveDirective: 'effective_directive',
  'original-policy': 'original_policy',
  originalPolicy: 'original_policy',
  disposition: 'disposition',
  'blocked-uri': 'blocked_uri',
  blockedURL: 'blocked_uri',
  'line-number': 'line_number',
  lineNumber: 'line_number',
  'column-number': 'column_number',
  columnNumber: 'column_number',
  'source-file': 'source_file',
  sourceFile: 'source_file',
  'status-code': 'status_code',
  statusCode: 'status_code',
  'script-sample': 'script_sample',
  sample: 'script_sample',
};

/** Kebab-case HPKP / Expect-CT / Expect-Staple fields → snake_case, as Relay keeps them. */
const snake = (o: Obj): Obj => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replaceAll('-', '_'), v]));

export function cspOf(raw: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(raw)) {
    const name = CSP_FIELDS[k] ?? k.replaceAll('-', '_');
    if (v !== undefined && v !== null && out[name] === undefined) out[name] = v;
  }
  // Older browsers (Firefox < 69, Safari) send only violated-directive: its first word is the directive.
  if (!str(out.effective_directive) && str(out.violated_directive))
    out.effective_directive = str(out.violated_directive)!.trim().split(/\s+/)[0];
  return out;
}

const securityEvent = (kind: SecurityKind, report: Obj, url: string | undefined, ctx: ReportContext, extraTags: Obj = {}): Obj => ({
  type: kind,
  [kind]: report,
  logger: kind,
  ...(url ? { request: { url, headers: ctx.userAgent ? { 'User-Agent': ctx.userAgent } : {} } } : {}),
  ...(ctx.environment ? { environment: ctx.environment } : {}),
  ...(ctx.release ? { release: ctx.release } : {}),
  tags: extraTags,
});

/** One body of the security endpoint → events and logs; a body that is no report at all gives nothing. */
export function parseSecurityBody(body: unknown, ctx: ReportContext): ParsedReports {
  const out: ParsedReports = { events: [], logs: [], invalid: 0 };
  if (Array.isArray(body)) {
    // The Reporting API: a batch of reports of any type.
    for (const report of body) reportingItem(report, ctx, out);
    return out;
  }
  if (!isObj(body)) {
    out.invalid++;
    return out;
  }
  if (isObj(body['csp-report'])) {
    const csp = cspOf(body['csp-report']);
    out.events.push(securityEvent('csp', csp, str(csp.document_uri), ctx));
  } else if (isObj(body['expect-ct-report'])) {
    const r = snake(body['expect-ct-report']);
    out.events.push(securityEvent('expectct', r, undefined, ctx));
  } else if (isObj(body['expect-staple-report'])) {
    const r = snake(body['expect-staple-report']);
    out.events.push(securityEvent('expectstaple', r, undefined, ctx));
  } else if ('known-pins' in body || ('hostname' in body && 'served-certificate-chain' in body)) {
    out.events.push(securityEvent('hpkp', snake(body), undefined, ctx));
  } else if (typeof body.type === 'string' && isObj(body.body)) {
    reportingItem(body, ctx, out); // one Reporting API report, not in a list
  } else {
    out.invalid++;
  }
  return out;
}

function reportingItem(report: unknown, ctx: ReportContext, out: ParsedReports): void {
  if (!isObj(report) || typeof report.type !== 'string' || !isObj(report.body)) {
    out.invalid++;
    return;
  }
  const userAgent = str(report.user_agent) ?? ctx.userAgent;
  const url = str(report.url);
  if (report.type === 'csp-violation') {
    const csp = cspOf(report.body);
    csp.document_uri ??= url;
    out.events.push(securityEvent('csp', csp, str(csp.document_uri), { ...ctx, userAgent }, { report_api: 'report-to' }));
    return;
  }
  // deprecation, intervention, crash, network-error (NEL), permissions-policy-violation, …: logs.
  const type = clip(report.type, 64)!;
  const b = report.body;
  const text =
    str(b.message) ??
    (type === 'crash'
      ? `Browser crash${str(b.reason) ? `: ${str(b.reason)}` : ''}`
      : type === 'network-error'
        ? `Network error ${str(b.type) ?? ''} (${str(b.method) ?? 'GET'} ${url ?? ''})`.trim()
        : type);
  const where = str(b.sourceFile) ? ` at ${str(b.sourceFile)}:${int(b.lineNumber) ?? '?'}` : '';
  const tags: Obj = { report_type: type };
  if (str(b.id)) tags.report_id = str(b.id);
  if (url) tags.url = clip(url, 200);
  out.logs.push({
    // A report carries no id: derive one, so a browser's retry stores nothing twice.
    event_id: createHash('sha256').update(JSON.stringify(report)).digest('hex').slice(0, 32),
    kind: 'log',
    event_type: type,
    timestamp: new Date(Date.now() - Math.max(0, int(report.age) ?? 0)).toISOString(),
    level: type === 'crash' ? 'error' : type === 'deprecation' || type === 'intervention' || type === 'network-error' ? 'warning' : 'info',
    message: cleanText(`${text}${where}`),
    exception_type: null,
    stacktrace: null,
    environment: clip(ctx.environment ?? null, 100),
    service: BROWSER_REPORTS_SOURCE,
    user_ref: null,
    tags: cleanJson(tags) as Obj,
    extra: cleanJson({ report: { type, url: url ?? null, user_agent: userAgent ?? null, body: b } }) as Obj,
    origin: 'sentry',
    release: clip(ctx.release ?? null, 250),
  });
}

// --- What a security event is called, how it groups, and which are noise ---

const LOCAL = "'self'";

/** Sentry's normalized blocked URI: `'self'`, `data:`, `blob:`, the host (with port) of a URL, or the text. */
export function normalizedUri(v: unknown): string {
  const s = (str(v) ?? '').trim();
  if (s === '' || s === 'self' || s === LOCAL) return LOCAL;
  if (s === 'inline' || s === 'eval' || s === 'wasm-eval' || s === 'trusted-types-sink')
    return `'unsafe-${s === 'inline' ? 'inline' : s === 'eval' ? 'eval' : s}'`;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  if (scheme === 'data' || scheme === 'blob' || scheme === 'about' || scheme === 'filesystem') return `${scheme}:`;
  try {
    const u = new URL(s);
    return u.host || `${scheme}:`;
  } catch {
    return s;
  }
}

/** What Sentry's messages call each directive's resources. */
const NOUNS: Record<string, string> = {
  'child-src': 'child',
  'connect-src': 'connect',
  'font-src': 'font',
  'form-action': 'form',
  'frame-src': 'frame',
  'img-src': 'image',
  'manifest-src': 'manifest',
  'media-src': 'media',
  'object-src': 'object',
  'script-src': 'script',
  'script-src-elem': 'script',
  'script-src-attr': 'script',
  'style-src': 'style',
  'style-src-elem': 'style',
  'style-src-attr': 'style',
  'worker-src': 'worker',
  'prefetch-src': 'prefetch',
  'base-uri': 'base-uri',
  'default-src': 'default',
};

export interface SecurityFields {
  event_type: SecurityKind;
  exception_type: string;
  message: string;
  culprit: string;
  /** Sentry groups security reports by these, not by message. */
  fingerprint: string[];
  tags: Record<string, string>;
}

/** The title, culprit, grouping and tags of a (modernized) security event. */
export function securityFields(kind: SecurityKind, report: Obj): SecurityFields {
  if (kind === 'csp') {
    const directive = (str(report.effective_directive) ?? 'unknown').toLowerCase();
    const uri = normalizedUri(report.blocked_uri);
    const noun = NOUNS[directive] ?? directive;
    const message =
      uri === "'unsafe-inline'"
        ? noun === 'script'
          ? "Blocked unsafe inline 'script'"
          : `Blocked inline '${noun}'`
        : uri === "'unsafe-eval'"
          ? "Blocked unsafe eval() 'script'"
          : directive === 'form-action'
            ? `Blocked 'form' action to '${uri}'`
            : `Blocked '${noun}' from '${uri}'`;
    const tags: Record<string, string> = { 'effective-directive': directive, 'blocked-uri': clip(str(report.blocked_uri) ?? '', 200)! };
    tags['csp.blocked_host'] = clip(uri, 200)!;
    const doc = str(report.document_uri);
    if (doc) tags.url = clip(doc, 200)!;
    return {
      event_type: 'csp',
      exception_type: 'CSP',
      message,
      culprit: `${directive} ${uri}`,
      fingerprint: ['csp', directive, uri],
      tags,
    };
  }
  const host = str(report.hostname) ?? 'unknown';
  const port = int(report.port);
  const hostTags: Record<string, string> = { hostname: clip(host, 200)! };
  if (port !== undefined) hostTags.port = String(port);
  if (kind === 'hpkp') {
    return {
      event_type: kind,
      exception_type: 'HPKP',
      message: `Public key pinning validation failed for '${host}'`,
      culprit: host,
      fingerprint: ['hpkp', host],
      tags: hostTags,
    };
  }
  const label = kind === 'expectct' ? 'Expect-CT' : 'Expect-Staple';
  return {
    event_type: kind,
    exception_type: label.replace('-', ''),
    message: `${label} failed for '${host}'`,
    culprit: host,
    fingerprint: [kind, host],
    tags: hostTags,
  };
}

/**
 * Sentry's default CSP block list ("sourced from personal experience as well as reputable
 * blogs from Twitter and Dropbox"): reports whose blocked URI or source file match are
 * browser-extension, injected-adware and local noise, not the site's own problem.
 */
export const DISALLOWED_CSP_SOURCES = [
  'about',
  'ms-browser-extension',
  'chrome://*',
  'chrome-extension://*',
  'chromeinvokeimmediate://*',
  'chromenull://*',
  'data:text/html,chromewebdata',
  'safari-extension://*',
  'safari-web-extension://*',
  'mxaddon-pkg://*',
  'jar://*',
  'webviewprogressproxy://*',
  'ms-browser-extension://*',
  'tmtbff://*',
  'mbinit://*',
  'symres://*',
  'resource://*',
  'moz-extension://*',
  '*.metrext.com',
  'static.image2play.com',
  '*.tlscdn.com',
  '73a5b0806e464be8bd4e694c744624f0.com',
  '020dfefc4ac745dab7594f2f771c1ded.com',
  '*.superfish.com',
  'addons.mozilla.org',
  'v.zilionfast.in',
  'widgets.amung.us',
  'xls.searchfun.in',
  'istatic.datafastguru.info',
  'localhost',
  'resultshub-a.akamaihd.net',
  'pulseadnetwork.com',
  'gateway.zscalertwo.net',
  'www.passpack.com',
  'middlerush-a.akamaihd.net',
  'www.websmartcenter.com',
  'a.linkluster.com',
  'saveyoutime.ru',
  'cdncache-a.akamaihd.net',
  'x.rafomedia.com',
  'savingsslider-a.akamaihd.net',
  'injections.adguard.com',
  'icontent.us',
  'amiok.org',
  'connectionstrenth.com',
  'siteheart.net',
  'netanalitics.space',
  'printapplink.com',
  'godlinkapp.com',
  'devappstor.com',
  'hoholikik.club',
  'smartlink.cool',
  'promfflinkdev.com',
];

/** Code that ran from these is never the site's own: extensions, about: pages, data: and blob: documents. */
const FOREIGN_SOURCE_SCHEMES =
  /^(about|data|blob|chrome|chrome-extension|moz-extension|safari-extension|safari-web-extension|ms-browser-extension|resource|webkit-masked-url):/i;

/** `pattern` (an entry of the list above) matches `value` (a URI or a bare word) as Sentry's is_valid_origin does. */
export function matchesSource(value: string, pattern: string): boolean {
  const v = value.trim().toLowerCase();
  const p = pattern.toLowerCase();
  if (!v) return false;
  if (v === p) return true;
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(v)?.[1];
  let host: string;
  try {
    host = new URL(v).hostname;
  } catch {
    host = scheme ? '' : v.split(/[/:]/)[0];
  }
  if (p.includes('://')) {
    const [ps, ph] = p.split('://');
    return scheme === ps && (ph === '*' || host === ph);
  }
  if (!p.includes('.') && p !== 'localhost') return scheme === p || v === p; // "about", "ms-browser-extension"
  if (p.startsWith('*.')) return host === p.slice(2) || host.endsWith(p.slice(1));
  if (p.includes(':')) return v.startsWith(p);
  return host === p;
}

/** Why a security event is noise (an outcome reason), or null when it is worth keeping. */
export function securityFilter(kind: SecurityKind, report: Obj): string | null {
  if (kind !== 'csp') return null;
  const blocked = str(report.blocked_uri) ?? '';
  const source = str(report.source_file) ?? '';
  const doc = str(report.document_uri) ?? '';
  if ([blocked, source].some((u) => DISALLOWED_CSP_SOURCES.some((p) => matchesSource(u, p)))) return 'csp_disallowed_source';
  if (source && FOREIGN_SOURCE_SCHEMES.test(source.trim())) return 'csp_foreign_source';
  // A report about a page that is not a web page (about:blank, an extension's own page, file:).
  if (doc && !/^https?:/i.test(doc.trim())) return 'csp_foreign_document';
  return null;
}
