import * as crypto from "node:crypto";
import type { SimCluster } from "../sim/cluster";

/**
 * Put simulated nodes into one quorate Proxmox cluster directly in the fakes'
 * state: what `pvecm create` + `pvecm add` would leave, without logging any
 * command, so a test's command log shows only what the code under test ran.
 */
export function seedQuorateCluster(sim: SimCluster, clusterName: string, names: string[]): void {
  sim.mutateState((s) => {
    s.clusters[clusterName] = {
      name: clusterName,
      configVersion: names.length,
      ringSeq: 12,
      expectedVotes: null,
      authkey: crypto.randomBytes(64).toString("base64"),
      interfaces: { "0": { linknumber: 0 } },
      nodes: names.map((n, i) => ({ name: n, nodeid: i + 1, votes: 1, ip: s.nodes[n].ip, links: { link0: s.nodes[n].ip } })),
    };
    names.forEach((n, i) => Object.assign(s.nodes[n], { cluster: clusterName, nodeid: i + 1, links: { link0: s.nodes[n].ip } }));
  });
}
