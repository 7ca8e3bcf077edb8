import type { EventRecord } from '../domain/events/record.ts';
import type { LlmLogRecord } from '../domain/logs/llmRecord.ts';
import type { SpanRecord } from '../domain/spans/record.ts';
import type { LlmLogProducer, SpanProducer } from './llmLogProducer.ts';
import type { EventProducer } from './producer.ts';

export interface TraceBundle {
  spans: SpanRecord[];
  events: EventRecord[];
  llmLogs: LlmLogRecord[];
}

/**
 * What one traces request produces — spans, error events made from exceptions, LLM logs
 * made from GenAI spans — queued as the three jobs they are, at once. Resolves only when
 * all three are in Redis (a 200 means durably queued); if one fails the request fails
 * (503) and the exporter retries, which stores nothing twice: every id is derived from
 * the span.
 */
export class TraceProducer {
  constructor(
    private readonly events: EventProducer,
    private readonly llm: LlmLogProducer,
    private readonly spans: SpanProducer,
  ) {}

  assertCapacity(): void {
    this.events.assertCapacity();
  }

  async enqueue(bundle: TraceBundle, bytes: number): Promise<void> {
    await Promise.all([
      bundle.spans.length ? this.spans.enqueue(bundle.spans, bytes) : null,
      bundle.events.length ? this.events.enqueue(bundle.events, 0) : null,
      bundle.llmLogs.length ? this.llm.enqueue(bundle.llmLogs, 0) : null,
    ]);
  }
}
