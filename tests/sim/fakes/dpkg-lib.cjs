"use strict";
// Whether a package is installed on a node, for the tools that exist only once their package is
// (corosync-qnetd-tool, pvecm qdevice): the package database of debian-lib.cjs.
const debian = require("./debian-lib.cjs");

/** Whether `pkg` is installed on `nodeName` (the tool's own node by default). */
function isInstalled(sim, pkg, nodeName) {
  return debian.database(sim, nodeName).get(pkg) === "installed";
}

module.exports = { isInstalled };
