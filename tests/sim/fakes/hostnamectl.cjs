"use strict";
// Fake hostnamectl (systemd 252+): `set-hostname NAME` writes /etc/hostname and sets the running
// name (the node's own UTS namespace); `hostname` (or no verb's "Static hostname:" line) prints it.
// Invalid names: "Invalid static hostname 'X'" exit 1, as systemd-hostnamed answers.
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");
const lib = require("./lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  sim.logTool("hostnamectl", process.argv.slice(2));
  const [verb, name] = argv;
  if (verb === "set-hostname" || (verb === "hostname" && name)) {
    if (!name || !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*$/.test(name)) lib.die(`Invalid static hostname '${name ?? ""}'`, 1);
    fs.writeFileSync("/etc/hostname", `${name}\n`);
    execFileSync("hostname", [name]);
    return 0;
  }
  const current = fs.readFileSync("/etc/hostname", "utf8").trim();
  if (verb === "hostname") lib.line(current);
  else if (!verb || verb === "status") lib.line(` Static hostname: ${current}`);
  else lib.die(`Unknown command verb '${verb}'.`, 1);
  return 0;
});
