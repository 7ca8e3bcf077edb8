/** Helpers for tests that drive the real OpenTelemetry SDK exporters against Faultline. */
import type { ExportResult } from '@opentelemetry/core';

/** An exporter wrapped so a test can see what every export answered (the real one still does the HTTP). */
export function recording<
  T,
  E extends { export(items: T[], cb: (r: ExportResult) => void): void; shutdown(): Promise<void>; forceFlush?(): Promise<void> },
>(exporter: E) {
  const results: ExportResult[] = [];
  const wrapped = {
    export(items: T[], cb: (r: ExportResult) => void) {
      exporter.export(items, (r) => {
        results.push(r);
        cb(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  return { exporter: wrapped, results };
}

/** 0 is ExportResultCode.SUCCESS. */
export const allSucceeded = (results: ExportResult[]) => results.length > 0 && results.every((r) => r.code === 0);
