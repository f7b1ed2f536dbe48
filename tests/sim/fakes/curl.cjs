"use strict";
// Fake curl for the hosts: serves the simulated K3s release artifacts (k3s-lib.cjs), the Proxmox
// release keys (debian-lib.cjs fakeKeyring) and the Image Factory's Talos disk images
// (talos-image.cjs), nothing else (no network in the simulation). Understands -s -S -f -L (also combined, -sSfL), --retry N,
// -o FILE / --output FILE; writes to stdout without -o. Errors as curl prints them: with -f an
// HTTP 404 is exit 22 and, unless -s without -S, "curl: (22) The requested URL returned error: 404".
const fs = require("node:fs");
const lib = require("./lib.cjs");
const k3sLib = require("./k3s-lib.cjs");
const debian = require("./debian-lib.cjs");
const talosImage = require("./talos-image.cjs");

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("curl", argv);
  let output = null;
  let fail = false;
  let silent = false;
  let showError = false;
  const urls = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-o" || a === "--output") output = argv[++i];
    else if (a === "--retry" || a === "--connect-timeout" || a === "--max-time" || a === "-m") i++;
    else if (a === "--fail" || a === "-f") fail = true;
    else if (a === "--silent") silent = true;
    else if (a === "--show-error") showError = true;
    else if (a === "--location" || a === "-L") continue;
    else if (/^-[a-zA-Z]+$/.test(a)) {
      for (const c of a.slice(1)) {
        if (c === "f") fail = true;
        else if (c === "s") silent = true;
        else if (c === "S") showError = true;
        else if (c !== "L") lib.die(`curl: option -${c}: is unknown (not simulated)`, 2);
      }
    } else if (a.startsWith("-")) lib.die(`curl: option ${a}: is unknown (not simulated)`, 2);
    else urls.push(a);
  }
  if (urls.length !== 1) lib.die("curl: (2) no URL specified", 2);
  const body = debian.keyringFor(urls[0]) ?? k3sLib.artifact(urls[0]) ?? talosImage.image(urls[0])?.xz ?? null;
  if (body === null) {
    if (!fail) {
      lib.out("Not Found");
      return 0;
    }
    if (!silent || showError) lib.err("curl: (22) The requested URL returned error: 404\n");
    return 22;
  }
  if (output === null) lib.out(body);
  else fs.writeFileSync(output, body);
  return 0;
});
