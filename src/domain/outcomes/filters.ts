import Bowser from 'bowser';
import { isbot } from 'isbot';
import { isMatch } from 'matcher';
import type { EventRecord } from '../events/record.ts';
import type { EventData } from '../events/structured.ts';

/**
 * Sentry's standard inbound filters, evaluated on the normalized event (so every payload
 * shape the normalizer accepts — modern, legacy `sentry.interfaces.*` — is filtered
 * alike). Each has an id, which is also the reason of the `filtered` outcome it records
 * (Relay's FilterStatKey names).
 */
export const FILTER_IDS = [
  'legacy-browsers',
  'web-crawlers',
  'browser-extensions',
  'localhost',
  'error-message',
  'release-version',
] as const;
export type FilterId = (typeof FILTER_IDS)[number];

export interface InboundFilterSettings {
  legacy_browsers: boolean;
  web_crawlers: boolean;
  browser_extensions: boolean;
  localhost: boolean;
  /** Globs (`*` any run, case-insensitive) matched against `Type: value` and the message. */
  error_messages: string[];
  /** Globs matched against the event's release. */
  releases: string[];
}

export const FILTERS_OFF: InboundFilterSettings = Object.freeze({
  legacy_browsers: false,
  web_crawlers: false,
  browser_extensions: false,
  localhost: false,
  error_messages: [],
  releases: [],
}) as InboundFilterSettings;

export const filtersActive = (s: InboundFilterSettings): boolean =>
  s.legacy_browsers || s.web_crawlers || s.browser_extensions || s.localhost || s.error_messages.length > 0 || s.releases.length > 0;

/**
 * Browsers Sentry's "legacy browsers" filter drops (Relay's classic set: IE up to 11,
 * Edge before Chromium, Opera before 15, Opera Mini before 8, the Android stock browser
 * before 4, Safari before 6).
 */
const LEGACY_BROWSERS = {
  'internet explorer': '<=11',
  'microsoft edge': '<79',
  opera: '<15',
  'opera mini': '<8',
  safari: '<6',
};

/** Relay's browser-extension error messages (browser_extensions.rs): noise from extensions, injected scripts and proxies. */
const EXTENSION_MESSAGES = new RegExp(
  [
    'top\\.GLOBALS',
    'originalCreateNotification',
    'canvas\\.contentDocument',
    'MyApp_RemoveAllHighlights',
    'http://tt\\.epicplay\\.com',
    "Can't find variable: ZiteReader",
    'jigsaw is not defined',
    'ComboSearch is not defined',
    'http://loading\\.retry\\.widdit\\.com/',
    'atomicFindClose',
    'fb_xd_fragment',
    'bmi_SafeAddOnload',
    'EBCallBackMessageReceived',
    '_gCrWeb',
    'conduitPage',
    "null is not an object \\(evaluating 'elt\\.parentNode'\\)",
    'plugin\\.setSuspendState is not a function',
    'Extension context invalidated',
    'webkit-masked-url:',
    "can't access dead object",
    'Cannot redefine property: (solana|ethereum|googletag)',
    "undefined is not an object \\(evaluating 'a\\.L'\\)",
  ].join('|'),
);

/** Relay's browser-extension sources: where the crashing frame's script came from. */
const EXTENSION_SOURCES = new RegExp(
  [
    'graph\\.facebook\\.com',
    'connect\\.facebook\\.net',
    'eatdifferent\\.com\\.woopra-ns\\.com',
    'static\\.woopra\\.com/js/woopra\\.js',
    '^chrome(-extension)?://',
    '^moz-extension://',
    '^safari(-web)?-extension://',
    '^ms-browser-extension://',
    '^webkit-masked-url://',
    '127\\.0\\.0\\.1:4001/isrunning',
    'webappstoolbarba\\.texthelp\\.com/',
    'metrics\\.itunes\\.apple\\.com\\.edgesuite\\.net/',
  ].join('|'),
  'i',
);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/** A request header, whichever way the SDK sent headers (an object, or a list of pairs). */
function header(request: Obj | undefined, name: string): string | undefined {
  const headers = request?.headers;
  const lower = name.toLowerCase();
  if (isObj(headers)) {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower && typeof v === 'string') return v;
  } else if (Array.isArray(headers)) {
    for (const pair of headers)
      if (Array.isArray(pair) && String(pair[0]).toLowerCase() === lower && typeof pair[1] === 'string') return pair[1];
  }
  return undefined;
}

const dataOf = (record: EventRecord): EventData => (record.data ?? {}) as EventData;

function userAgent(record: EventRecord): string | undefined {
  const data = dataOf(record);
  const ua = header(data.request, 'user-agent');
  if (ua) return ua;
  // Browser SDKs also put the browser in contexts; the raw UA string is only in the request.
  const browser = isObj(data.contexts) && isObj(data.contexts.browser) ? data.contexts.browser : undefined;
  return typeof browser?.user_agent === 'string' ? browser.user_agent : undefined;
}

function isLegacyBrowser(record: EventRecord): boolean {
  const ua = userAgent(record);
  if (!ua) return false;
  try {
    const parser = Bowser.getParser(ua);
    if (parser.satisfies(LEGACY_BROWSERS)) return true;
    // The stock Android browser reports WebKit's "Version/4.0" whatever Android it runs on: its age is the OS's.
    if (parser.getBrowserName(true) === 'android browser') return Number.parseInt(parser.getOSVersion() ?? '', 10) < 4;
    return false;
  } catch {
    return false;
  }
}

function isCrawler(record: EventRecord): boolean {
  const ua = userAgent(record);
  return Boolean(ua && isbot(ua));
}

/** Messages the extension filter and the message patterns look at: `Type: value`, the value, the message. */
function messagesOf(record: EventRecord): string[] {
  const out = new Set<string>();
  for (const x of dataOf(record).exceptions ?? []) {
    if (x.type && x.value) out.add(`${x.type}: ${x.value}`);
    if (x.value) out.add(x.value);
    else if (x.type) out.add(x.type);
  }
  if (record.message) out.add(record.message);
  if (record.exception_type && record.message) out.add(`${record.exception_type}: ${record.message}`);
  const logentry = dataOf(record).logentry?.message;
  if (logentry) out.add(logentry);
  return [...out];
}

function isFromExtension(record: EventRecord): boolean {
  if (messagesOf(record).some((m) => EXTENSION_MESSAGES.test(m))) return true;
  // The frame that threw (the last one, Sentry's order) names the script it came from.
  for (const x of dataOf(record).exceptions ?? []) {
    const top = x.frames.at(-1);
    const source = top?.abs_path ?? top?.filename;
    if (source && EXTENSION_SOURCES.test(source)) return true;
  }
  return false;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const isLocalHost = (host: string): boolean => LOCAL_HOSTS.has(host.toLowerCase()) || host.toLowerCase().endsWith('.localhost');

function isLocalhost(record: EventRecord): boolean {
  const data = dataOf(record);
  const ip = typeof data.user?.ip_address === 'string' ? data.user.ip_address : undefined;
  if (ip === '127.0.0.1' || ip === '::1') return true;
  const url = typeof data.request?.url === 'string' ? data.request.url : undefined;
  if (url) {
    try {
      if (isLocalHost(new URL(url).hostname)) return true;
    } catch {
      // Not a URL: nothing to say.
    }
  }
  return Boolean(data.server_name && isLocalHost(data.server_name));
}

const globs = (patterns: string[], values: string[]): boolean =>
  patterns.length > 0 && values.some((v) => isMatch(v, patterns, { caseSensitive: false }));

/**
 * The id of the first filter that drops this event, or null to keep it. Only error
 * events (Sentry's filters apply to errors; logs, spans, sessions are not filtered).
 */
export function filterEvent(record: EventRecord, s: InboundFilterSettings): FilterId | null {
  if (record.kind !== 'error') return null;
  if (s.browser_extensions && isFromExtension(record)) return 'browser-extensions';
  if (s.localhost && isLocalhost(record)) return 'localhost';
  if (s.legacy_browsers && isLegacyBrowser(record)) return 'legacy-browsers';
  if (s.web_crawlers && isCrawler(record)) return 'web-crawlers';
  if (s.releases.length && record.release && globs(s.releases, [record.release])) return 'release-version';
  if (s.error_messages.length && globs(s.error_messages, messagesOf(record))) return 'error-message';
  return null;
}
