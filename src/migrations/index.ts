import { Initial1763900000000 } from './1763900000000-Initial.ts';
import { RefreshTokens1763950000000 } from './1763950000000-RefreshTokens.ts';
import { Logs1764000000000 } from './1764000000000-Logs.ts';
import { Issues1764200000000 } from './1764200000000-Issues.ts';
import { CrashDumps1764300000000 } from './1764300000000-CrashDumps.ts';
import { ErrorEventsByTime1764400000000 } from './1764400000000-ErrorEventsByTime.ts';
import { TokenVersion1764520000000 } from './1764520000000-TokenVersion.ts';
import { ProjectInvitations1764520001000 } from './1764520001000-ProjectInvitations.ts';
import { Alerts1765000000000 } from './1765000000000-Alerts.ts';
import { Triage1765100000000 } from './1765100000000-Triage.ts';
import { Sessions1765100001000 } from './1765100001000-Sessions.ts';
import { SourceMaps1765100002000 } from './1765100002000-SourceMaps.ts';
import { EventAttachments1765100003000 } from './1765100003000-EventAttachments.ts';
import { IssueHourly1765100005000 } from './1765100005000-IssueHourly.ts';
import { TelemetryColumns1765200000000 } from './1765200000000-TelemetryColumns.ts';
import { Spans1765200001000 } from './1765200001000-Spans.ts';
import { LlmPrices1765200002000 } from './1765200002000-LlmPrices.ts';
import { AlertRetention1765300000000 } from './1765300000000-AlertRetention.ts';
import { Scrubbing1766000000000 } from './1766000000000-Scrubbing.ts';
import { AuditLog1766100000000 } from './1766100000000-AuditLog.ts';
import { Outcomes1766300000000 } from './1766300000000-Outcomes.ts';
import { QuotaOverrides1766400000000 } from './1766400000000-QuotaOverrides.ts';
import { PartitionedTelemetry1766500000000 } from './1766500000000-PartitionedTelemetry.ts';
/** Listed explicitly (not globbed) so the same list works from TypeScript and from dist/; in timestamp order. */
export const migrations = [
  Initial1763900000000,
  RefreshTokens1763950000000,
  Logs1764000000000,
  Issues1764200000000,
  CrashDumps1764300000000,
  ErrorEventsByTime1764400000000,
  TokenVersion1764520000000,
  ProjectInvitations1764520001000,
  Alerts1765000000000,
  Triage1765100000000,
  Sessions1765100001000,
  SourceMaps1765100002000,
  EventAttachments1765100003000,
  IssueHourly1765100005000,
  TelemetryColumns1765200000000,
  Spans1765200001000,
  LlmPrices1765200002000,
  AlertRetention1765300000000,
  Scrubbing1766000000000,
  AuditLog1766100000000,
  Outcomes1766300000000,
  QuotaOverrides1766400000000,
  PartitionedTelemetry1766500000000,
];
