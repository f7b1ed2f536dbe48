"use strict";
// Fake `iperf3` (3.12). Nothing is measured: the simulated nodes share one network namespace.
//  Server  `iperf3 -s [-B ADDR] [-p PORT] [-1] [-D] [-I PIDFILE]`: registers a listener in the state
//          (`state.iperf3.servers`). With -D it starts a detached stand-in process (`sleep`) whose
//          pid goes to PIDFILE, so stopping the server by pid works as on a real node; without -D
//          it returns at once (a real server would run in the foreground).
//  Client  `iperf3 -c HOST [-B ADDR] [-p PORT] [-t SECS] [-J] [--connect-timeout MS]`: succeeds when
//          an ONLINE node has a live listener on HOST:PORT (bound to HOST, or unbound on a node that
//          has HOST among its addresses), and prints what real `iperf3 -J` prints (tab-indented JSON,
//          end.sum_sent / end.sum_received). The rate is `state.iperf3.gbps["<client>-><server>"]`
//          (default 26 Gbit/s, a typical Thunderbolt 4 link). A one-off (-1) listener is consumed.
//          No listener: the JSON "error" of a refused connection, exit 1.
//          With a Thunderbolt ring modelled (state.ring, ring-lib.cjs), a ring loopback is reached
//          only along OpenFabric adjacencies, and `--bind-dev PORT` only across that port's own
//          cable (an Up adjacency on PORT to the server's node), else "Network is unreachable";
//          `state.iperf3.gbps["<node>:<port>"]` is the rate of the cable on that port (a cable
//          fallen back to a slow mode).
// Each call is logged to tools.jsonl.
const fs = require("node:fs");
const { spawn } = require("node:child_process");
const lib = require("./lib.cjs");
const ring = require("./ring-lib.cjs");

const VERSION = "iperf 3.12";
const WITH_VALUE = new Set(["-c", "-B", "-p", "-t", "-I", "-i", "-P", "-b", "-l", "-w", "-O", "-f", "-n", "-k", "--connect-timeout", "--bind-dev", "--logfile", "--pidfile", "--bind", "--port", "--time", "--client"]);
const LONG = { "--server": "-s", "--client": "-c", "--bind": "-B", "--port": "-p", "--time": "-t", "--json": "-J", "--pidfile": "-I", "--daemon": "-D", "--one-off": "-1" };

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

function parse(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    if (eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const key = LONG[a] || a;
    if (WITH_VALUE.has(a) || WITH_VALUE.has(key)) o[key] = v !== undefined ? v : argv[++i];
    else o[key] = true;
  }
  return o;
}

function systemInfo(node) {
  return `Linux ${node.name} ${node.kernel} #1 SMP PREEMPT_DYNAMIC PMX x86_64`;
}

function print(doc) {
  lib.out(JSON.stringify(doc, null, "\t") + "\n");
}

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("iperf3", argv);
  const o = parse(argv);
  const { node } = sim.self();
  const port = o["-p"] !== undefined ? Number(o["-p"]) : 5201;

  if (o["-s"]) {
    let pid = null;
    if (o["-D"]) {
      const child = spawn("sleep", ["120"], { detached: true, stdio: "ignore" });
      child.unref();
      pid = child.pid;
      if (o["-I"]) fs.writeFileSync(o["-I"], `${pid}`);
    }
    sim.mutate((state) => {
      state.iperf3 ??= { servers: [], gbps: {} };
      state.iperf3.servers = state.iperf3.servers.filter((s) => !(s.node === node.name && s.port === port && s.bind === (o["-B"] || null)));
      state.iperf3.servers.push({ node: node.name, bind: o["-B"] || null, port, pid, oneOff: !!o["-1"] });
    });
    return 0;
  }

  const host = o["-c"];
  if (!host) lib.die("iperf3: parameter error - must either be a client (-c) or server (-s)\n\nUsage: iperf3 [-s|-c host] [options]", 1);
  const seconds = o["-t"] !== undefined ? Number(o["-t"]) : 10;
  const json = !!o["-J"];
  const local = o["-B"] || node.ip;
  const found = sim.mutate((state) => {
    state.iperf3 ??= { servers: [], gbps: {} };
    const live = (s) => (s.pid === null || pidAlive(s.pid)) && state.nodes[s.node] && state.nodes[s.node].online;
    state.iperf3.servers = state.iperf3.servers.filter(live);
    const server = state.iperf3.servers.find(
      (s) => s.port === port && (s.bind === host || (s.bind === null && (state.nodes[s.node].addresses || []).includes(host))),
    );
    if (!server) return null;
    const ringTarget = ring.loopbackOwner(state, host);
    const dev = o["--bind-dev"];
    let cableRate;
    if (ringTarget !== undefined || dev !== undefined) {
      const path = dev !== undefined ? ring.route(state, node.name, server.node, dev) : ring.route(state, node.name, server.node);
      if (!path || (dev !== undefined && path.length !== 1)) return { unreachable: true };
      if (dev !== undefined) {
        const peer = ring.peerEnd(ring.cableAt(state, node.name, dev), node.name, dev);
        const slow = [state.iperf3.gbps[`${node.name}:${dev}`], state.iperf3.gbps[`${peer.node}:${peer.port}`]].filter((g) => typeof g === "number");
        if (slow.length > 0) cableRate = Math.min(...slow);
      }
    }
    if (server.oneOff) {
      state.iperf3.servers = state.iperf3.servers.filter((s) => s !== server);
      if (server.pid) {
        try {
          process.kill(server.pid, "SIGTERM");
        } catch {
          /* already gone */
        }
      }
    }
    const rate = state.iperf3.gbps[`${node.name}->${server.node}`];
    return { server: server.node, gbps: cableRate !== undefined ? cableRate : typeof rate === "number" ? rate : 26 };
  });
  const start = {
    connected: [],
    version: VERSION,
    system_info: systemInfo(node),
  };
  if (found && found.unreachable) {
    const msg = "unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: Network is unreachable";
    if (json) print({ start, intervals: [], end: {}, error: msg });
    else lib.err(`iperf3: error - ${msg}\n`);
    return 1;
  }
  if (!found) {
    const msg = "unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: Connection refused";
    if (json) print({ start, intervals: [], end: {}, error: msg });
    else lib.err(`iperf3: error - ${msg}\n`);
    return 1;
  }
  const bps = found.gbps * 1e9;
  const now = new Date();
  const socket = 5;
  const localPort = 40000 + Math.floor(Math.random() * 20000);
  start.connected = [{ socket, local_host: local, local_port: localPort, remote_host: host, remote_port: port }];
  Object.assign(start, {
    timestamp: { time: now.toUTCString(), timesecs: Math.floor(now.getTime() / 1000) },
    connecting_to: { host, port },
    cookie: "pvesimpvesimpvesimpvesimpvesimpvesim",
    tcp_mss_default: 65468,
    target_bitrate: 0,
    fq_rate: 0,
    sock_bufsize: 0,
    sndbuf_actual: 16384,
    rcvbuf_actual: 131072,
    test_start: { protocol: "TCP", num_streams: 1, blksize: 131072, omit: 0, duration: seconds, bytes: 0, blocks: 0, reverse: 0, tos: 0, target_bitrate: 0, bidir: 0, fqrate: 0 },
  });
  const intervals = [];
  for (let s = 0; s < seconds; s++) {
    const sum = { start: s, end: s + 1, seconds: 1, bytes: Math.round(bps / 8), bits_per_second: bps, retransmits: 0, omitted: false, sender: true };
    intervals.push({ streams: [{ socket, ...sum, snd_cwnd: 4194304, snd_wnd: 3145728, rtt: 60, rttvar: 12, pmtu: 65520 }], sum });
  }
  const total = { start: 0, end: seconds, seconds, bytes: Math.round((bps / 8) * seconds), bits_per_second: bps };
  const end = {
    streams: [
      {
        sender: { socket, ...total, retransmits: 0, max_snd_cwnd: 4194304, max_snd_wnd: 3145728, max_rtt: 95, min_rtt: 40, mean_rtt: 60, sender: true },
        receiver: { socket, ...total, bits_per_second: bps * 0.999, sender: true },
      },
    ],
    sum_sent: { ...total, retransmits: 0, sender: true },
    sum_received: { ...total, bits_per_second: bps * 0.999, sender: true },
    cpu_utilization_percent: { host_total: 41.2, host_user: 1.1, host_system: 40.1, remote_total: 55.3, remote_user: 2.2, remote_system: 53.1 },
    sender_tcp_congestion: "cubic",
    receiver_tcp_congestion: "cubic",
  };
  if (json) print({ start, intervals, end });
  else lib.line(`[SUM]   0.00-${seconds.toFixed(2)}  sec  ${(total.bytes / 2 ** 30).toFixed(1)} GBytes  ${found.gbps.toFixed(1)} Gbits/sec                  receiver`);
  return 0;
});
