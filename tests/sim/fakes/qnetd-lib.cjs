"use strict";
// The QDevice model shared by pvecm (qdevice setup/remove, status) and corosync-qnetd-tool.
//  - cluster.qdevice = { host, algorithm, votes, tls }: the quorum.device section pvecm qdevice setup
//    writes into corosync.conf (absent without a QDevice).
//  - state.qnetd[<host node>] = { initialized, clusters: [names] }: a plain host whose
//    corosync-qnetd was initialised and signed a cluster's certificate by pvecm qdevice setup;
//    `foreign: [{ cluster, nodeId, address }]` seeds clients of clusters outside the simulation
//    (test setup: another cluster of the same name already served).
// The QDevice votes while its qnetd host is up and initialised (ffsplit: the partition with nodes
// online gets the vote; the simulation has no split partitions, only nodes that are down).

/** The simulated host answering at `address`, or undefined. */
function hostAt(state, address) {
  return Object.values(state.nodes).find((n) => n.ip === address || (n.addresses || []).includes(address));
}

/** The QDevice's vote for `cluster` now (0 when its qnetd host is down or not set up). */
function qdeviceVotes(state, cluster, onlineCount) {
  const q = cluster.qdevice;
  if (!q || onlineCount === 0) return 0;
  const host = hostAt(state, q.host);
  const qnetd = host && state.qnetd && state.qnetd[host.name];
  return host && host.online && qnetd && qnetd.initialized && (qnetd.clusters || []).includes(cluster.name) ? q.votes ?? 1 : 0;
}

module.exports = { hostAt, qdeviceVotes };
