import type { BrandingOptions, LocaleTranslations } from 'adminjs';

/** Faultline's mark: a pink-gradient shield crossed by a fault line. Served at /admin/faultline-logo.svg. */
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 220 48" role="img" aria-label="Faultline">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#ff6fa8"/><stop offset="1" stop-color="#c2185b"/></linearGradient></defs>
<path d="M24 3 L42 10 V24 C42 35 34 42 24 45 C14 42 6 35 6 24 V10 Z" fill="url(#g)"/>
<path d="M17 13 L27 22 L20 26 L31 37" fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"/>
<text x="54" y="32" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="24" font-weight="700" fill="#4a1030">Faultline</text>
</svg>`;

/** Panties' pink: a Bulma-like pink with a deeper rose for contrast on white. */
export const branding: BrandingOptions = {
  companyName: 'Faultline',
  logo: '/admin/faultline-logo.svg',
  favicon: '/admin/faultline-logo.svg',
  withMadeWithLove: false,
  theme: {
    colors: {
      primary100: '#d6336c',
      primary80: '#e0578a',
      primary60: '#ea86ab',
      primary40: '#f3b6cc',
      primary20: '#fbe3ec',
      accent: '#4a1030',
      love: '#d6336c',
      bg: '#fff5f9',
      filterBg: '#fff0f6',
      hoverBg: '#c2185b',
      infoDark: '#c2185b',
      info: '#d6336c',
      infoLight: '#fbe3ec',
      highlight: '#fde8f0',
    },
  },
};

export const translations: Partial<LocaleTranslations> = {
  labels: {
    Event: 'Events',
    Log: 'Logs',
    LlmLog: 'LLM logs',
    LlmPrice: 'LLM prices',
    ScrubbingRule: 'Scrubbing rules',
    CrashDump: 'Crash dumps',
    Issue: 'Issues',
    Project: 'Projects',
    ProjectMember: 'Members',
    ApiKey: 'API keys',
    User: 'Users',
    UserFilterPreference: 'Filter preferences',
    liveTail: 'Live tail',
    trace: 'Trace',
    queues: 'Queues',
  },
  components: {
    Login: {
      welcomeHeader: 'Faultline',
      welcomeMessage: 'Errors, logs, LLM calls and crash dumps from every service you run — sign in with your Faultline account.',
    },
  },
  pages: { liveTail: 'Live tail', trace: 'Trace', queues: 'Queues' },
};
