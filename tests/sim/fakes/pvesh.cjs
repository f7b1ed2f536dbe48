"use strict";
// Fake `pvesh` (proxmox/pve-manager PVE/CLI/pvesh.pm): `pvesh <get|create|set|delete> <path> [OPTIONS]
// [FORMAT_OPTIONS]`. Endpoints live in the ROUTES table below; another fake file can add endpoints
// by exporting `pveshRoutes` (an array like ROUTES) from a file named pvesh-*.cjs in this directory.
// Unknown path -> "No '<verb>' handler defined for '<path>'" on stderr, exit 1.
const fs = require("node:fs");
const path = require("node:path");
const lib = require("./lib.cjs");

const FORMAT_OPTIONS = { "output-format": "string", noborder: "boolean", noheader: "boolean", quiet: "boolean", "human-readable": "boolean" };

function notFound(verb, p) {
  lib.die(`No '${verb}' handler defined for '${p}'\n`, 1);
}

/** The guest whose agent a request asks, with its config and seconds up; dies as PVE does when the agent cannot answer. */
function answeringAgent(state, self, params) {
  const n = lib.apiTargetNode(state, self, params.node);
  const g = n.guests[params.vmid];
  if (!g) configMissing(n.name, params.vmid);
  const conf = lib.guestConfig(n.name, params.vmid, g);
  if (!/^(1|enabled=1)(,|$)/.test(String(conf.agent ?? ""))) lib.die("No QEMU guest agent configured\n");
  if (g.status !== "running") lib.die(`VM ${params.vmid} is not running\n`);
  const upFor = Math.floor(Date.now() / 1000) - (g.startedAt || 0);
  if (g.agentInstalled === false || upFor < (g.agentBootSeconds || 0)) lib.die("QEMU guest agent is not running\n");
  return { g, conf, upFor };
}

function configMissing(node, vmid) {
  lib.die(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist\n`);
}

function nodeRow(state, n, online) {
  const base = {
    id: `node/${n.name}`,
    node: n.name,
    type: "node",
    level: "",
    ssl_fingerprint: n.sslFingerprint,
    status: online ? "online" : "offline",
    maxcpu: 8,
    maxmem: 33537990656,
    maxdisk: 100861726720,
    disk: 4240621568,
  };
  if (online) Object.assign(base, { cpu: 0.0123, mem: 2401239040, uptime: Math.max(1, Math.floor(Date.now() / 1000) - (n.bootTime || 0)) });
  return base;
}

function guestRow(ownerNode, vmid, g, online) {
  const conf = lib.guestConfig(ownerNode.name, vmid, g);
  const maxmem = Number(conf.memory || 2048) * 1024 * 1024;
  const row = {
    id: `qemu/${vmid}`,
    maxcpu: Number(conf.cores || 1) * Number(conf.sockets || 1),
    maxdisk: lib.guestBootDiskBytes(conf),
    maxmem,
    name: conf.name,
    node: ownerNode.name,
    status: online ? g.status : "unknown",
    template: g.template ? 1 : 0,
    type: "qemu",
    vmid: Number(vmid),
  };
  if (online) {
    const running = g.status === "running";
    Object.assign(row, {
      cpu: running ? 0.01 : 0,
      disk: 0,
      diskread: running ? 32633856 : 0,
      diskwrite: running ? 328233472 : 0,
      mem: running ? Math.floor(maxmem / 4) : 0,
      netin: running ? 190 : 0,
      netout: running ? 0 : 0,
      uptime: running ? Math.max(1, Math.floor(Date.now() / 1000) - (g.startedAt || ownerNode.bootTime || 0)) : 0,
    });
  }
  return row;
}

const ROUTES = [
  {
    get: "/version",
    handler: ({ self }) => {
      const { major, minor } = lib.parseVersion(self.pveVersion);
      return { release: `${major}.${minor}`, repoid: self.repoid, version: self.pveVersion };
    },
  },
  {
    get: "/cluster/status",
    handler: ({ state, self }) => {
      const cluster = lib.clusterOf(state, self.name);
      if (!cluster) {
        return [{ id: `node/${self.name}`, ip: self.ip, level: "", local: 1, name: self.name, nodeid: 0, online: 1, type: "node" }];
      }
      const q = lib.quorumInfo(state, cluster);
      const rows = [{ id: "cluster", name: cluster.name, nodes: cluster.nodes.length, quorate: q.quorate ? 1 : 0, type: "cluster", version: cluster.configVersion }];
      for (const m of [...cluster.nodes].sort((a, b) => a.nodeid - b.nodeid)) {
        const n = state.nodes[m.name];
        const online = !!(n && n.online && n.cluster === cluster.name); // a separated node stays listed, offline
        const row = { id: `node/${m.name}`, ip: (m.links && m.links.link0) || m.ip, local: m.name === self.name ? 1 : 0, name: m.name, nodeid: m.nodeid, online: online ? 1 : 0, type: "node" };
        if (online) row.level = "";
        rows.push(row);
      }
      return rows;
    },
  },
  {
    get: "/cluster/config/join",
    options: { node: "string" },
    handler: ({ state, self, opts }) => {
      const cluster = lib.clusterOf(state, self.name);
      if (!cluster) lib.die("424 node is not in a cluster, no join info available! at /usr/share/perl5/PVE/API2/ClusterConfig.pm line 585\n");
      const name = opts.node || self.name;
      if (!cluster.nodes.some((m) => m.name === name)) lib.die(`unknown node '${name}'\n`);
      return lib.joinInfo(state, cluster, name);
    },
  },
  {
    get: "/cluster/resources",
    options: { type: "string" },
    handler: ({ state, self, opts }) => {
      const type = opts.type;
      if (type !== undefined && !["vm", "storage", "node", "sdn"].includes(type))
        lib.paramError({ type: `value '${type}' does not have a value in the enumeration 'vm, storage, node, sdn'` }, "pvesh get /cluster/resources [OPTIONS] [FORMAT_OPTIONS]");
      const rows = [];
      for (const n of lib.visibleNodes(state, self.name)) {
        const online = n.name === self.name || n.online;
        if (!type || type === "node") rows.push(nodeRow(state, n, online));
        if (!type || type === "vm") for (const [vmid, g] of Object.entries(n.guests)) rows.push(guestRow(n, vmid, g, online));
      }
      return rows;
    },
  },
  {
    get: "/cluster/nextid",
    options: { vmid: "integer" },
    handler: ({ state, self, opts }) => {
      const used = new Set(lib.visibleNodes(state, self.name).flatMap((n) => Object.keys(n.guests).map(Number)));
      if (opts.vmid !== undefined) {
        if (used.has(opts.vmid)) lib.paramError({ vmid: `VM ${opts.vmid} already exists` }, "pvesh get /cluster/nextid [OPTIONS] [FORMAT_OPTIONS]");
        return String(opts.vmid);
      }
      let id = 100;
      while (used.has(id)) id++;
      return String(id);
    },
  },
  {
    get: "/nodes",
    handler: ({ state, self }) => lib.visibleNodes(state, self.name).map((n) => nodeRow(state, n, n.name === self.name || n.online)),
  },
  {
    get: "/nodes/{node}/status",
    handler: ({ state, self, params }) => {
      const n = lib.apiTargetNode(state, self, params.node);
      return {
        cpu: 0.0123,
        kversion: `Linux ${n.kernel} #1 SMP PREEMPT_DYNAMIC PMX ${n.kernel.replace(/-pve$/, "")} x86_64`,
        loadavg: ["0.05", "0.10", "0.08"],
        memory: { free: 31136751616, total: 33537990656, used: 2401239040 },
        pveversion: `pve-manager/${n.pveVersion}/${n.repoid}`,
        uptime: Math.max(1, Math.floor(Date.now() / 1000) - (n.bootTime || 0)),
      };
    },
  },
  {
    get: "/nodes/{node}/qemu",
    handler: ({ state, self, params }) => {
      const n = lib.apiTargetNode(state, self, params.node);
      return Object.entries(n.guests).map(([vmid, g]) => {
        const r = guestRow(n, vmid, g, true);
        delete r.id;
        delete r.node;
        delete r.type;
        if (!r.template) delete r.template;
        return r;
      });
    },
  },
  {
    get: "/nodes/{node}/qemu/{vmid}/status/current",
    handler: ({ state, self, params }) => {
      const n = lib.apiTargetNode(state, self, params.node);
      const g = n.guests[params.vmid];
      if (!g) configMissing(n.name, params.vmid);
      const r = guestRow(n, params.vmid, g, true);
      delete r.id;
      delete r.node;
      delete r.type;
      r.qmpstatus = g.status;
      r.ha = { managed: 0 };
      return r;
    },
  },
  {
    // A file of the guest through its agent (qemu-server PVE/API2/Qemu/Agent.pm file-read):
    // {"content": "..."} (plus "truncated": 1 past 16 MiB). A missing file is the agent's
    // error, which PVE passes on as "Agent error: <desc>" (exit 255). The fake guest has
    // `guest.agentFiles` (path -> content), and once it has run for `guest.cloudInitSeconds`
    // (default 0) cloud-init's boot-finished and the ed25519 host key cloud-init generated
    // (one per VM, derived from its VMID and `guest.hostKeySeed`).
    get: "/nodes/{node}/qemu/{vmid}/agent/file-read",
    options: { file: "string" },
    handler: ({ state, self, params, opts }) => {
      const { g, conf, upFor } = answeringAgent(state, self, params);
      const file = String(opts.file || "");
      if (!file) lib.paramError({ file: "property is missing and it is not optional" }, "pvesh get /nodes/{node}/qemu/{vmid}/agent/file-read --file <string> [FORMAT_OPTIONS]");
      const files = { ...(g.agentFiles || {}) };
      if (upFor >= (g.cloudInitSeconds || 0)) {
        files["/var/lib/cloud/instance/boot-finished"] ??= `${g.startedAt || 0}.00 - Sun, 06 Dec 2026 12:00:00 +0000 - v. 24.4\n`;
        files["/etc/ssh/ssh_host_ed25519_key.pub"] ??= lib.guestHostKey(Number(params.vmid), g.hostKeySeed || "", conf.name || `vm${params.vmid}`);
      }
      if (!(file in files)) lib.die(`Agent error: Failed to open file '${file}': No such file or directory\n`);
      return { content: files[file] };
    },
  },
  {
    // The guest agent through the API (qemu-server PVE/API2/Qemu/Agent.pm): {"result": [...]}.
    // Errors (exit 255) as in pve-cli.md §3.10. The fake's agent answers once the VM has run for
    // `guest.agentBootSeconds` (default 0); `guest.agentInstalled: false` keeps it silent;
    // `guest.agentInterfaces` replaces the reported list. Otherwise: lo, and eth0 with net0's
    // MAC and ipconfig0's static address (or a DHCP lease from 10.99.0.0/16).
    get: "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
    handler: ({ state, self, params }) => {
      const { g, conf, upFor } = answeringAgent(state, self, params);
      if (g.agentInterfaces) return { result: g.agentInterfaces };
      const mac = (/^[a-z0-9]+=([0-9A-Fa-f:]{17})/.exec(String(conf.net0 || "")) || [])[1] || "BC:24:11:00:00:00";
      const ip = (/(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(String(conf.ipconfig0 || "")) || []).slice(1);
      const vmid = Number(params.vmid);
      const [address, prefix] = ip.length ? [ip[0], Number(ip[1])] : [`10.99.${Math.floor(vmid / 250) % 256}.${(vmid % 250) + 1}`, 16];
      const stats = { "rx-bytes": 1048576, "rx-dropped": 0, "rx-errs": 0, "rx-packets": 2048, "tx-bytes": 524288, "tx-dropped": 0, "tx-errs": 0, "tx-packets": 1024 };
      return {
        result: [
          {
            "hardware-address": "00:00:00:00:00:00",
            "ip-addresses": [
              { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 },
              { "ip-address": "::1", "ip-address-type": "ipv6", prefix: 128 },
            ],
            name: "lo",
            statistics: stats,
          },
          {
            "hardware-address": mac.toLowerCase(),
            "ip-addresses": [
              { "ip-address": address, "ip-address-type": "ipv4", prefix },
              { "ip-address": `fe80::be24:11ff:fe${mac.slice(9, 11).toLowerCase()}:${mac.slice(12, 14).toLowerCase()}${mac.slice(15, 17).toLowerCase()}`, "ip-address-type": "ipv6", prefix: 64 },
            ],
            name: "eth0",
            statistics: stats,
          },
        ],
      };
    },
  },
  {
    get: "/nodes/{node}/qemu/{vmid}/config",
    handler: ({ state, self, params }) => {
      const n = lib.apiTargetNode(state, self, params.node);
      const g = n.guests[params.vmid];
      if (!g) configMissing(n.name, params.vmid);
      const conf = lib.guestConfig(n.name, params.vmid, g);
      conf.digest = require("node:crypto").createHash("sha1").update(JSON.stringify(conf)).digest("hex");
      return conf;
    },
  },
];

function loadExtraRoutes() {
  const extra = [];
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (/^pvesh-.+\.cjs$/.test(f)) extra.push(...(require(path.join(__dirname, f)).pveshRoutes || []));
  }
  return extra;
}

function matchRoute(routes, verb, p) {
  for (const r of routes) {
    const pattern = r[verb];
    if (!pattern) continue;
    const names = [];
    const re = new RegExp("^" + pattern.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, n) => (names.push(n), "([^/]+)")) + "$");
    const m = re.exec(p);
    if (m) return { route: r, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return null;
}

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  const verb = argv[0];
  const verbs = { get: "get", ls: "get", create: "create", set: "set", delete: "delete", usage: "usage" };
  if (!verbs[verb])
    lib.unknownCommand("pvesh", verb, [
      "pvesh create <api_path> [OPTIONS] [FORMAT_OPTIONS]",
      "pvesh delete <api_path> [OPTIONS] [FORMAT_OPTIONS]",
      "pvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]",
      "pvesh ls <api_path> [OPTIONS] [FORMAT_OPTIONS]",
      "pvesh set <api_path> [OPTIONS] [FORMAT_OPTIONS]",
      "pvesh usage <api_path> [OPTIONS]",
      "",
      "pvesh help [<extra-args>] [OPTIONS]",
    ]);
  const rest = argv.slice(1);
  // the api path is the first word that is neither an option nor an option's value
  let rawPath;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (/^--?[A-Za-z]/.test(a)) {
      const flag = a.replace(/^--?/, "");
      if (!flag.includes("=") && !/^(n|no|nob|nobo|nobor|nobord|noborde|noborder|noh|nohe|nohea|nohead|noheade|noheader|q|qu|qui|quie|quiet|h|hu|hum|huma|human|human-.*)$/.test(flag)) i++;
      continue;
    }
    rawPath = a;
    break;
  }
  const usage = `pvesh ${verb} <api_path> [OPTIONS] [FORMAT_OPTIONS]`;
  if (rawPath === undefined) lib.usageError("not enough arguments", usage);
  const p = ("/" + rawPath).replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
  const found = matchRoute([...ROUTES, ...loadExtraRoutes()], verbs[verb], p);
  if (!found) notFound(verbs[verb], p);
  const { route, params } = found;
  const { opts } = lib.parseCli(rest, {
    usage: `pvesh ${verb} ${p} [OPTIONS] [FORMAT_OPTIONS]`,
    args: ["api_path"],
    options: { ...(route.options || {}), ...FORMAT_OPTIONS },
    aliases: { output: "output-format" },
  });
  const format = opts["output-format"] || "text";
  if (!["json", "json-pretty", "text", "yaml"].includes(format))
    lib.paramError({ "output-format": `value '${format}' does not have a value in the enumeration 'text, json, json-pretty, yaml'` }, usage);
  const { state, node: self } = sim.self();
  const result = route.handler({ sim, state, self, opts, params, path: p, verb: verbs[verb] });
  lib.printApiResult(result, format, { quiet: opts.quiet, noborder: opts.noborder, noheader: opts.noheader });
  return 0;
});
