import { z } from 'zod';

/**
 * The events of Langfuse's batch ingestion API (`POST /api/public/ingestion`), as the
 * classic SDKs send them (langfuse JS v3, langfuse-python v2): an envelope `{id, type,
 * timestamp, body, metadata}` per event. Validated per event, as Langfuse does: a bad
 * event is an entry in the 207's `errors`, the others are still taken. Field names and
 * types follow Langfuse's own schemas (packages/shared/src/server/ingestion/types.ts);
 * unknown fields are ignored, as there.
 */
const Id = z
  .string()
  .min(1)
  .max(800)
  .refine((id) => !id.includes('\r'), 'ID cannot contain carriage return characters');
const DateTime = z.iso.datetime({ offset: true }).nullish();
const Level = z.enum(['DEBUG', 'DEFAULT', 'WARNING', 'ERROR']).nullish();
const Int = z.number().int().nullish();

/** Both usage shapes: Langfuse's {input, output, total, …Cost} and OpenAI's {promptTokens, completionTokens, totalTokens}. */
const Usage = z
  .object({
    input: Int,
    output: Int,
    total: Int,
    unit: z.string().nullish(),
    promptTokens: Int,
    completionTokens: Int,
    totalTokens: Int,
    inputCost: z.number().nullish(),
    outputCost: z.number().nullish(),
    totalCost: z.number().nullish(),
  })
  .nullish();
/** usageDetails: Langfuse's free-form counts, or OpenAI's usage object as the API returns it. */
const UsageDetails = z.record(z.string(), z.union([z.number(), z.record(z.string(), z.number().nullish())]).nullish()).nullish();
const CostDetails = z.record(z.string(), z.number().nonnegative().nullish()).nullish();

const Observation = z.object({
  traceId: Id.nullish(),
  environment: z.string().max(100).nullish(),
  name: z.string().nullish(),
  startTime: DateTime,
  endTime: DateTime,
  completionStartTime: DateTime,
  metadata: z.unknown().optional(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  level: Level,
  statusMessage: z.string().nullish(),
  parentObservationId: z.string().nullish(),
  version: z.string().nullish(),
  model: z.string().nullish(),
  modelParameters: z.record(z.string(), z.unknown()).nullish(),
  usage: Usage,
  usageDetails: UsageDetails,
  costDetails: CostDetails,
  promptName: z.string().nullish(),
  promptVersion: z.number().int().nullish(),
});
const ObservationWithId = Observation.extend({ id: Id });

const Trace = z.object({
  id: Id.nullish(),
  timestamp: DateTime,
  name: z.string().max(1000).nullish(),
  externalId: z.string().nullish(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  sessionId: z.string().nullish(),
  userId: z.string().nullish(),
  environment: z.string().max(100).nullish(),
  metadata: z.unknown().optional(),
  release: z.string().nullish(),
  version: z.string().nullish(),
  public: z.boolean().nullish(),
  tags: z.array(z.string()).nullish(),
});

const Score = z.object({
  id: Id.nullish(),
  name: z.string().min(1),
  value: z.union([z.number(), z.string()]),
  dataType: z.enum(['NUMERIC', 'CATEGORICAL', 'BOOLEAN']).nullish(),
  traceId: z.string().nullish(),
  observationId: z.string().nullish(),
  sessionId: z.string().nullish(),
  comment: z.string().nullish(),
  environment: z.string().max(100).nullish(),
  metadata: z.unknown().optional(),
});

// Legacy observation-create/-update (older SDKs): the observation's type is in its body.
const LegacyObservation = Observation.extend({ id: Id.nullish(), type: z.enum(['GENERATION', 'SPAN', 'EVENT']) });

const envelope = { id: Id, timestamp: z.iso.datetime({ offset: true }), metadata: z.unknown().optional() };

export const IngestionEvent = z.discriminatedUnion('type', [
  z.object({ ...envelope, type: z.literal('trace-create'), body: Trace }),
  z.object({ ...envelope, type: z.literal('span-create'), body: ObservationWithId }),
  z.object({ ...envelope, type: z.literal('span-update'), body: ObservationWithId }),
  z.object({ ...envelope, type: z.literal('generation-create'), body: ObservationWithId }),
  z.object({ ...envelope, type: z.literal('generation-update'), body: ObservationWithId }),
  z.object({ ...envelope, type: z.literal('event-create'), body: ObservationWithId }),
  z.object({ ...envelope, type: z.literal('score-create'), body: Score }),
  z.object({ ...envelope, type: z.literal('observation-create'), body: LegacyObservation }),
  z.object({ ...envelope, type: z.literal('observation-update'), body: LegacyObservation.extend({ id: Id }) }),
  z.object({ ...envelope, type: z.literal('sdk-log'), body: z.object({ log: z.unknown() }) }),
]);
export type IngestionEvent = z.infer<typeof IngestionEvent>;
export type ObservationBody = z.infer<typeof Observation> & { id?: string | null };
export type TraceBody = z.infer<typeof Trace>;
export type ScoreBody = z.infer<typeof Score>;

/** The request: `{batch: [...], metadata}`. Anything else is a 400 for the whole request, as in Langfuse. */
export const IngestionRequest = z.object({ batch: z.array(z.unknown()), metadata: z.unknown().optional() });
