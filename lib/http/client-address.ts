import { isIP } from "node:net";

// Which address a request comes from, for rate limits. Only the hops we were told to trust may
// speak for the client: with none (the default, as `npm start` runs exposed), the socket's
// address; behind N proxies, the X-Forwarded-For entry the outermost of them appended. What a
// client writes into the header itself is never read. IPv6 clients are grouped by their /64,
// the smallest block a home or a host is usually given.

/** The number of proxies in front of the app; each appends one X-Forwarded-For entry. */
export function parseTrustedProxies(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  if (!/^[0-9]$/.test(value)) throw new Error("TRUSTED_PROXIES must be a whole number from 0 to 9");
  return Number(value);
}

export function clientAddress(input: {
  forwardedFor: string | undefined;
  /** undefined when the socket is unknown (see below). */
  socketAddress: string | undefined;
  trustedProxies: number;
}): string {
  const forwarded = (input.forwardedFor ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (input.socketAddress === undefined) {
    // `next dev`, where the socket is out of reach: Next.js writes it into X-Forwarded-For only
    // when the client sent none, so with no trusted proxy a client can still pick its address.
    return addressGroup(forwarded[Math.max(0, forwarded.length - Math.max(1, input.trustedProxies))] ?? "");
  }
  const hops = [...forwarded, input.socketAddress];
  // hops[last] is the socket; each trusted proxy vouches for the entry before it.
  return addressGroup(hops[Math.max(0, hops.length - 1 - input.trustedProxies)]!);
}

/** The rate-limit key for one address: IPv4 as is, IPv6 by /64, anything unparseable as "unknown". */
export function addressGroup(raw: string): string {
  const address = raw.replace(/^\[(.*)\](:\d+)?$/, "$1").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return "unknown";
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head, tail] = address.toLowerCase().split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::1.2.3.4) counts as two groups; only the first four groups matter here.
  const rightGroups = right.flatMap((group) => (group.includes(".") ? ["0", "0"] : [group]));
  const missing = tail === undefined ? 0 : 8 - left.length - rightGroups.length;
  return [...left, ...Array<string>(missing).fill("0"), ...rightGroups].map((group) => group.replace(/^0+(?=.)/, ""));
}

/** Set by scripts/server.ts on every request, over anything the client sent under this name. */
export const CLIENT_ADDRESS_HEADER = "x-crm-client-address";
