"use strict";
// @tools
// The Image Factory's disk images as the simulation serves them (curl.cjs): for a URL
// https://factory.talos.dev/image/<schematic>/<version>/<platform>-amd64.raw.xz, a raw image
// (64 KiB naming schematic, version and platform) compressed with the real xz, so the same URL
// always gives the same bytes and a test can pin their sha256 (image(url).xzSha256). Not a tool.
const crypto = require("node:crypto");
const { execFileSync } = require("node:child_process");

const URL_RE = /^https:\/\/factory\.talos\.dev\/image\/([0-9a-f]{64})\/(v\d+\.\d+\.\d+)\/([a-z0-9-]+)-amd64\.raw\.xz$/;
const RAW_BYTES = 64 * 1024;

/** The raw image of a Factory URL, or null for any other URL. */
function raw(url) {
  const m = URL_RE.exec(url);
  if (!m) return null;
  const head = Buffer.from(`TALOS-SIM-IMAGE schematic=${m[1]} version=${m[2]} platform=${m[3]}\n`);
  const out = Buffer.alloc(RAW_BYTES);
  for (let at = 0; at < RAW_BYTES; at += head.length) head.copy(out, at);
  return out;
}

const cache = new Map();
/** { xz, raw, xzSha256, rawSha256 } of a Factory URL, or null. */
function image(url) {
  if (cache.has(url)) return cache.get(url);
  const r = raw(url);
  if (r === null) return null;
  const xz = execFileSync("xz", ["-c", "-6"], { input: r });
  const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");
  const result = { xz, raw: r, xzSha256: sha(xz), rawSha256: sha(r) };
  cache.set(url, result);
  return result;
}

module.exports = { image };
