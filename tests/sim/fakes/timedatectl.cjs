"use strict";
// Fake timedatectl: `set-timezone ZONE` points /etc/localtime (the node's own /etc) at
// /usr/share/zoneinfo/ZONE, `show -p Timezone --value` and the status line read it back. An
// unknown zone: "Failed to set time zone: Invalid or not installed time zone 'ZONE'" exit 1.
const fs = require("node:fs");
const lib = require("./lib.cjs");

function current() {
  try {
    const target = fs.readlinkSync("/etc/localtime");
    const at = target.indexOf("zoneinfo/");
    return at < 0 ? "n/a" : target.slice(at + "zoneinfo/".length);
  } catch {
    return "n/a";
  }
}

lib.main(() => {
  const sim = lib.context();
  const all = process.argv.slice(2);
  sim.logTool("timedatectl", all);
  const [verb, zone] = all.filter((a) => !a.startsWith("-"));
  if (verb === "set-timezone") {
    if (!zone || !fs.existsSync(`/usr/share/zoneinfo/${zone}`) || zone.includes("..")) {
      lib.die(`Failed to set time zone: Invalid or not installed time zone '${zone ?? ""}'`, 1);
    }
    fs.rmSync("/etc/localtime", { force: true });
    fs.symlinkSync(`../usr/share/zoneinfo/${zone}`, "/etc/localtime");
    return 0;
  }
  if (verb === "show") {
    lib.line(all.includes("--value") ? current() : `Timezone=${current()}`);
    return 0;
  }
  if (!verb || verb === "status") {
    lib.line(`                Time zone: ${current()}`);
    return 0;
  }
  lib.die(`Unknown command verb '${verb}'.`, 1);
});
