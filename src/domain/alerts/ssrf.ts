import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { config } from '../../config.ts';

/**
 * Where outbound alert requests may go. Only public unicast addresses, unless
 * ALERT_ALLOW_PRIVATE_TARGETS says otherwise: `true` (anything, for on-premises
 * receivers) or CIDR ranges allowed besides public ones. ipaddr.js names every special
 * range (loopback, private, linkLocal — 169.254.169.254, the cloud metadata address —,
 * uniqueLocal — fd00:ec2::254 —, multicast, carrierGradeNat, 6to4, teredo, NAT64,
 * reserved, …); anything not plain `unicast` is refused. IPv4-mapped IPv6
 * (::ffff:127.0.0.1) is judged as the IPv4 address it is.
 */
export type TargetPolicy = boolean | string[];

export function addressAllowed(address: string, policy: TargetPolicy = config.alerts.allowPrivateTargets): boolean {
  if (policy === true) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return false;
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (Array.isArray(policy)) {
    for (const cidr of policy) {
      const [net, bits] = cidr.includes('/')
        ? ipaddr.parseCIDR(cidr)
        : [ipaddr.parse(cidr), ipaddr.parse(cidr).kind() === 'ipv4' ? 32 : 128];
      if (net.kind() === addr.kind() && addr.match(net, bits)) return true;
    }
  }
  return addr.range() === 'unicast';
}

export class TargetRefused extends Error {
  readonly code = 'ETARGETREFUSED';
  constructor(
    readonly host: string,
    readonly addresses: string[],
  ) {
    super(
      addresses.length
        ? `${host} resolves only to addresses alerts may not be sent to (${addresses.join(', ')}); set ALERT_ALLOW_PRIVATE_TARGETS to allow them`
        : `${host} is an address alerts may not be sent to; set ALERT_ALLOW_PRIVATE_TARGETS to allow it`,
    );
  }
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '');

/** Every address a host name resolves to (or the literal address itself). */
export async function resolveAll(host: string): Promise<LookupAddress[]> {
  const h = bare(host);
  const family = isIP(h);
  if (family) return [{ address: h, family }];
  return new Promise((resolve, reject) =>
    dnsLookup(h, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/**
 * At creation: the URL's host must resolve, and to allowed addresses only (one private
 * address among public ones is refused too — at send time only allowed ones are used,
 * but a target that half points inside is not a target to accept).
 */
export async function checkTarget(url: URL, policy: TargetPolicy = config.alerts.allowPrivateTargets): Promise<void> {
  const addresses = await resolveAll(url.hostname);
  const refused = addresses.filter((a) => !addressAllowed(a.address, policy)).map((a) => a.address);
  if (refused.length) throw new TargetRefused(url.hostname, refused);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http / node:net that resolves, keeps only allowed addresses and
 * hands exactly those to the socket, so the address connected to is one that was
 * checked — a DNS answer that changes between the check and the connection (rebinding)
 * cannot smuggle in a private address. Works with and without `autoSelectFamily`
 * (which asks for `all` addresses).
 */
export function guardedLookup(policy: TargetPolicy = config.alerts.allowPrivateTargets) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    resolveAll(hostname).then(
      (addresses) => {
        const allowed = addresses.filter(
          (a) =>
            addressAllowed(a.address, policy) && (!options.family || options.family === a.family || options.family === `IPv${a.family}`),
        );
        if (!allowed.length)
          return callback(
            Object.assign(
              new TargetRefused(
                hostname,
                addresses.map((a) => a.address),
              ),
              { errno: undefined },
            ),
            options.all ? [] : '',
            undefined,
          );
        if (options.all) return callback(null, allowed);
        return callback(null, allowed[0].address, allowed[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : '', undefined),
    );
  };
}
