/**
 * Parsers for the QDevice views: `corosync-qnetd-tool -l` on the qnetd host
 * (qdevices/qnetd-ipc-cmd.c: `Cluster "<name>":`, then per client
 * `Node ID <id>:` and `Client address:\t\t<addr>:<port>`), and the
 * `quorum { device { … net { host: … } } }` section of corosync.conf.
 * Pure functions.
 */

/** One cluster a qnetd daemon serves, with the addresses of its connected clients. */
export interface QnetdCluster {
  name: string;
  /** Client addresses without the port and the IPv4-mapped prefix (`::ffff:`). */
  clients: { nodeId: number; address: string }[];
}

/** `corosync-qnetd-tool -l`. */
export function parseQnetdList(stdout: string): QnetdCluster[] {
  const clusters: QnetdCluster[] = [];
  let current: QnetdCluster | undefined;
  let nodeId = 0;
  for (const line of stdout.split("\n")) {
    const cluster = /^Cluster "(.*)":\s*$/.exec(line);
    if (cluster) {
      current = { name: cluster[1], clients: [] };
      clusters.push(current);
      continue;
    }
    const node = /^\s+Node ID (\d+):\s*$/.exec(line);
    if (node) nodeId = Number(node[1]);
    const client = /^\s+Client address:\s*(\S+)\s*$/.exec(line);
    if (client && current) current.clients.push({ nodeId, address: clientHost(client[1]) });
  }
  return clusters;
}

/** `::ffff:192.168.30.11:54112` → `192.168.30.11`; `[fd00::1]:5403`-less IPv6 keeps all but the port. */
function clientHost(addr: string): string {
  const withoutPort = addr.replace(/:\d+$/, "");
  return withoutPort.replace(/^::ffff:/i, "").replace(/^\[(.*)\]$/, "$1");
}

/** The `host:` of corosync.conf's `quorum { device { net { … } } }`, or undefined without a QDevice. */
export function corosyncQdeviceHost(conf: string): string | undefined {
  const quorum = /^quorum\s*\{([\s\S]*?)^\}/m.exec(conf);
  if (!quorum) return undefined;
  const device = /device\s*\{([\s\S]*)/.exec(quorum[1]);
  if (!device) return undefined;
  return /^\s*host:\s*(\S+)\s*$/m.exec(device[1])?.[1];
}
