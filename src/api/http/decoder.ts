import { Transform } from 'node:stream';
import { Counter } from 'prom-client';
import { AppError, badRequest, payloadTooLarge } from '../../domain/errors.ts';
import { registry } from '../../metrics.ts';

const decodedBytes = new Counter({
  name: 'faultline_http_decoded_bytes_total',
  help: 'Request body bytes produced by Content-Encoding decoders (the work done decoding), by encoding',
  labelNames: ['encoding'] as const,
  registers: [registry],
});

export const outputTooLarge = (limit: number) =>
  payloadTooLarge(`Request body exceeds ${limit} bytes once decoded`, { limit_bytes: limit });

/** What a decoder fails with: its own AppErrors (413, …) as they are, anything else as corrupt input. */
export function decodeError(err: unknown, encoding: string): AppError {
  if (err instanceof AppError) return err;
  return badRequest(`Request body is not valid ${encoding} data`, err instanceof Error ? err.message : null, 'invalid_encoding');
}

/**
 * What every Content-Encoding decoder shares: it counts what it produces and fails
 * with a 413 *before* passing on the byte that crosses `maxOutputBytes` — the check is
 * the decoder's own, so it stops decoding there, rather than a consumer finding out
 * after a whole input chunk was inflated. It only ever fails with an AppError.
 */
export abstract class BoundedDecoder extends Transform {
  private produced = 0;
  private readonly counted;

  constructor(
    readonly encoding: string,
    readonly maxOutputBytes: number,
  ) {
    super();
    this.counted = decodedBytes.labels(encoding);
  }

  /** Passes decoded bytes on, as push() does; throws the 413 when they pass the limit. */
  protected output(chunk: Buffer): boolean {
    this.produced += chunk.length;
    this.counted.inc(chunk.length);
    if (this.produced > this.maxOutputBytes) throw outputTooLarge(this.maxOutputBytes);
    return this.push(chunk);
  }

  /** Fails the stream with the error as an AppError. */
  protected fail(err: unknown): void {
    this.destroy(decodeError(err, this.encoding));
  }
}
