/** The values some columns hold; the domain gives them meaning (src/domain/levels.ts, src/domain/events/record.ts). */
export const LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

export const EVENT_KINDS = ['error', 'log'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
