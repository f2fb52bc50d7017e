/** A request id we accept from the proxy in front: short, and nothing a log line could be forged with. */
export function isRequestId(value: string | null): value is string {
  return value !== null && /^[A-Za-z0-9._-]{8,64}$/.test(value);
}
