/**
 * Where a Redis Cluster is, as the environment says it: the seed nodes
 * (REDIS_CLUSTER_NODES, or the hosts of a `redis+cluster://` REDIS_URL), and
 * the credentials and TLS every node shares. ioredis's Cluster client asks the
 * seeds for the slot map and finds the other nodes itself, so a few seeds are
 * enough. Pure: config.ts reads the variables, the Redis adapter connects.
 *
 * A problem is the text that follows the variable's name; it never repeats a
 * password (the `redis+cluster://` URL is not repeated at all).
 */

export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisClusterTarget {
  readonly nodes: readonly RedisNodeAddress[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** rediss: every node is reached over TLS. */
  readonly tls: boolean;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** The schemes of a cluster REDIS_URL: `redis+cluster://`, and `rediss+cluster://` for TLS. */
export const clusterUrlSchemes = ['redis+cluster:', 'rediss+cluster:'] as const;

export function isClusterUrl(raw: string): boolean {
  const scheme = raw.slice(0, raw.indexOf(':') + 1).toLowerCase();
  return (clusterUrlSchemes as readonly string[]).includes(scheme);
}

/** A host name, an IPv4 address, or an IPv6 address in brackets (kept without them, as ioredis wants it). */
const nodePattern = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)):(\d{1,5})$/;

/** One `host:port`, or why not (the item is shown: addresses are no secret). */
function parseNode(item: string): Parsed<RedisNodeAddress> {
  const match = nodePattern.exec(item);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !(port >= 1 && port <= 65_535)) {
    return { ok: false, problem: `${JSON.stringify(item.slice(0, 100))} is not host:port (a port from 1 to 65535; an IPv6 address in brackets)` };
  }
  return { ok: true, value: { host, port } };
}

/**
 * A comma-separated list of `host:port` (REDIS_CLUSTER_NODES), duplicates
 * removed; at least one. The problem names the first bad item.
 */
export function parseClusterNodes(raw: string): Parsed<RedisNodeAddress[]> {
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return { ok: false, problem: 'must be a comma-separated list of host:port, such as 10.0.0.1:6379,10.0.0.2:6379' };
  const nodes: RedisNodeAddress[] = [];
  for (const item of items) {
    const node = parseNode(item);
    if (!node.ok) return { ok: false, problem: `must be a comma-separated list of host:port: ${node.problem}` };
    if (!nodes.some((n) => n.host === node.value.host && n.port === node.value.port)) nodes.push(node.value);
  }
  return { ok: true, value: nodes };
}

/**
 * `redis+cluster://[user[:password]@]host:port[,host:port…][/ or /0]` (or
 * `rediss+cluster://` for TLS): the seeds and the credentials of one cluster.
 * A cluster has only database 0, so another path is refused. The problem never
 * repeats the value: it may carry the password.
 */
export function parseClusterUrl(raw: string): Parsed<RedisClusterTarget> {
  const shape =
    'must be redis+cluster://[user:password@]host:port[,host:port…] (rediss+cluster:// for TLS), with no path but / or /0 (a cluster has only database 0); value hidden';
  const colon = raw.indexOf(':');
  const scheme = raw.slice(0, colon + 1).toLowerCase();
  if (!(clusterUrlSchemes as readonly string[]).includes(scheme) || !raw.startsWith('//', colon + 1)) return { ok: false, problem: shape };
  let rest = raw.slice(colon + 3);
  const slash = rest.indexOf('/');
  const path = slash === -1 ? '' : rest.slice(slash);
  rest = slash === -1 ? rest : rest.slice(0, slash);
  if (path !== '' && path !== '/' && path !== '/0') return { ok: false, problem: shape };
  // The last @: a password may hold an unescaped @, a host never does.
  const at = rest.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : rest.slice(0, at);
  const hosts = at === -1 ? rest : rest.slice(at + 1);
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const split = userinfo.indexOf(':');
    try {
      username = decodeURIComponent(split === -1 ? userinfo : userinfo.slice(0, split));
      password = split === -1 ? undefined : decodeURIComponent(userinfo.slice(split + 1));
    } catch {
      return { ok: false, problem: `${shape} (a bad %-escape in the user or password)` };
    }
  }
  const nodes = parseClusterNodes(hosts);
  if (!nodes.ok) return { ok: false, problem: shape };
  return {
    ok: true,
    value: {
      nodes: nodes.value,
      username: username === '' ? undefined : username,
      password: password === '' ? undefined : password,
      tls: scheme === 'rediss+cluster:',
    },
  };
}

/** The target as it may be shown: `redis+cluster://***@host:port,…` (the password, if any, hidden). */
export function describeClusterTarget(target: RedisClusterTarget): string {
  const user = target.username === undefined ? '' : encodeURIComponent(target.username);
  const userinfo = target.password === undefined ? (user === '' ? '' : `${user}@`) : `${user}:***@`;
  const hosts = target.nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
  return `${target.tls ? 'rediss' : 'redis'}+cluster://${userinfo}${hosts}`;
}

/** The part of a key Redis Cluster hashes: the first non-empty `{…}`, else the whole key. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? undefined : key.slice(open + 1, close);
}

/** One node as a standalone redis:// (or rediss://) URL with the cluster's credentials: what the start-up probe connects to. */
export function nodeUrl(target: RedisClusterTarget, node: RedisNodeAddress): string {
  const user = target.username === undefined ? '' : encodeURIComponent(target.username);
  const userinfo = target.password === undefined ? (user === '' ? '' : `${user}@`) : `${user}:${encodeURIComponent(target.password)}@`;
  return `${target.tls ? 'rediss' : 'redis'}://${userinfo}${node.host.includes(':') ? `[${node.host}]` : node.host}:${node.port}`;
}
