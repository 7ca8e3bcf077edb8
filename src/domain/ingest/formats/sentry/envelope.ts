/**
 * Sentry envelope parsing (https://develop.sentry.dev/sdk/data-model/envelopes/):
 *
 *   {envelope header JSON}\n
 *   {item header JSON}\n
 *   payload (exactly `length` bytes when the header has one; otherwise up to the next \n or EOF)\n
 *   …more items…
 *
 * Tolerant where SDKs differ: no trailing newline, CRLF line ends, blank lines between
 * items, empty payloads. Payloads stay Buffers (attachments are binary).
 */
import { badRequest } from '../../../errors.ts';
import { assertStorable } from '../../../text.ts';

export interface EnvelopeHeader {
  event_id?: string;
  dsn?: string;
  sent_at?: string;
  sdk?: { name?: string; version?: string };
  [k: string]: unknown;
}

export interface ItemHeader {
  type: string;
  length?: number;
  content_type?: string;
  filename?: string;
  attachment_type?: string;
  [k: string]: unknown;
}

export interface EnvelopeItem {
  header: ItemHeader;
  payload: Buffer;
}

export interface Envelope {
  header: EnvelopeHeader;
  items: EnvelopeItem[];
}

const NL = 0x0a;

function parseJsonLine(buf: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    throw badRequest(`Invalid envelope: ${what} is not JSON`, null, 'invalid_envelope');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`Invalid envelope: ${what} must be a JSON object`, null, 'invalid_envelope');
  return value as Record<string, unknown>;
}

/** The bytes up to (not including) the next newline from `pos`, and where the line after it starts. */
function line(buf: Buffer, pos: number): { bytes: Buffer; next: number } {
  const nl = buf.indexOf(NL, pos);
  const end = nl === -1 ? buf.length : nl;
  return { bytes: buf.subarray(pos, end), next: nl === -1 ? buf.length : nl + 1 };
}

const isBlank = (b: Buffer) => b.every((c) => c === 0x20 || c === 0x09 || c === 0x0d);

/**
 * Envelope headers are one short JSON line; the DSN in it may be the only credential, so
 * a route reads this line (at most this long) and authenticates before the rest.
 */
export const ENVELOPE_HEADER_MAX_BYTES = 64 * 1024;

/** The envelope header from the body's first line (without its newline). */
export function parseEnvelopeHeader(firstLine: Buffer): EnvelopeHeader {
  if (isBlank(firstLine)) throw badRequest('Invalid envelope: missing header', null, 'invalid_envelope');
  return parseJsonLine(firstLine, 'the envelope header') as EnvelopeHeader;
}

export function parseEnvelope(body: Buffer): Envelope {
  const first = line(body, 0);
  const header = parseEnvelopeHeader(first.bytes);

  const items: EnvelopeItem[] = [];
  let pos = first.next;
  while (pos < body.length) {
    const h = line(body, pos);
    pos = h.next;
    if (isBlank(h.bytes)) continue; // blank lines between items (or a trailing newline)
    const itemHeader = parseJsonLine(h.bytes, `item ${items.length} header`);
    if (typeof itemHeader.type !== 'string' || !itemHeader.type) {
      throw badRequest(`Invalid envelope: item ${items.length} has no type`, null, 'invalid_envelope');
    }
    let payload: Buffer;
    if (itemHeader.length !== undefined && itemHeader.length !== null) {
      const length = Number(itemHeader.length);
      if (!Number.isSafeInteger(length) || length < 0)
        throw badRequest(`Invalid envelope: item ${items.length} has a bad length`, null, 'invalid_envelope');
      if (pos + length > body.length) throw badRequest(`Invalid envelope: item ${items.length} is truncated`, null, 'invalid_envelope');
      payload = body.subarray(pos, pos + length);
      pos += length;
      // Consume the newline that ends the payload, CRLF included.
      if (body[pos] === 0x0d && body[pos + 1] === NL) pos += 2;
      else if (body[pos] === NL) pos += 1;
    } else {
      const p = line(body, pos);
      payload = p.bytes.at(-1) === 0x0d ? p.bytes.subarray(0, -1) : p.bytes;
      pos = p.next;
    }
    items.push({ header: itemHeader as ItemHeader, payload });
  }
  return { header, items };
}

/** JSON payloads of items; a bad one is the client's error for that item only. */
/** An item's JSON payload; throws on malformed JSON, and (AppError too_deep) on nesting past MAX_JSON_DEPTH. */
export function itemJson(item: EnvelopeItem): unknown {
  if (item.payload.length === 0) return {};
  const value: unknown = JSON.parse(item.payload.toString('utf8'));
  assertStorable(value, { nul: false });
  return value;
}
