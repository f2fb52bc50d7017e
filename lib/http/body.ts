// Request bodies, read only after the checks that need no body have passed, and never past a
// cap: a declared length over it is refused unread, and a chunked body stops being read there.
// proxy.ts stays off every route that takes a body, so nothing buffers it before these run.

/** True when the declared Content-Length alone already says the body is too large. */
export function declaredTooLarge(request: Request, max: number): boolean {
  const declared = Number(request.headers.get("content-length") ?? 0);
  return !Number.isFinite(declared) || declared > max;
}

/** The body's bytes, or null once it is longer than `max` bytes (the rest is left unread). */
export async function readCapped(request: Request, max: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (declaredTooLarge(request, max)) return null;
  return readUpTo(request.body, max);
}

/** A stream's bytes, read until it ends or passes `max` bytes: then null, and the rest is cancelled. */
export async function readUpTo(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (!stream) return new Uint8Array(new ArrayBuffer(0));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const joined = Buffer.concat(chunks);
  return new Uint8Array(joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength));
}

/**
 * The form fields of a body already read; files are dropped. Null for a body that is not a
 * well-formed form, or that holds a NUL byte (no field of ours has one, and PostgreSQL refuses it
 * in text): the caller answers 400 instead of letting a parser or a query throw.
 */
export async function formFieldsOf(
  request: Request,
  body: Uint8Array<ArrayBuffer>,
): Promise<[string, string][] | null> {
  const type = request.headers.get("content-type");
  if (!type || body.byteLength === 0) return [];
  let data: FormData;
  try {
    data = await new Response(body, { headers: { "content-type": type } }).formData();
  } catch {
    return null;
  }
  const fields = [...data.entries()].filter((entry): entry is [string, string] => typeof entry[1] === "string");
  return fields.some(([name, value]) => name.includes("\u0000") || value.includes("\u0000")) ? null : fields;
}

/** The same request with its body already read, for code (Auth.js) that reads the body itself. */
export function withBody(request: Request, body: Uint8Array<ArrayBuffer>): Request {
  const headers = new Headers(request.headers);
  headers.delete("transfer-encoding");
  headers.set("content-length", String(body.byteLength));
  return new Request(request.url, { method: request.method, headers, body });
}
