/**
 * Does the stack's API token answer? `GET /api2/json/version` on the
 * endpoint with the token (`Authorization: PVEAPIToken=<id>=<secret>`),
 * trusting the system roots plus the cluster CA read over SSH from a node
 * whose host key is pinned. Read-only; the secret is never part of a message.
 */
import * as https from "node:https";
import * as tls from "node:tls";
import type { Outcome } from "../checks";
import type { ApiTokenAccess } from "../target";

/** `GET <endpoint>api2/json/version`: HTTP status and body. */
function getVersion(token: ApiTokenAccess, ca: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  const url = new URL("api2/json/version", token.endpoint.endsWith("/") ? token.endpoint : `${token.endpoint}/`);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: "GET",
        headers: { Authorization: `PVEAPIToken=${token.tokenId}=${token.secret}` },
        ca: ca ? [...tls.rootCertificates, ca] : undefined,
        timeout: timeoutMs,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end();
  });
}

export async function checkApiToken(token: ApiTokenAccess, clusterCa: string | undefined, timeoutMs = 10_000): Promise<Outcome> {
  const where = `${token.endpoint} (token ${token.tokenId})`;
  let answer: { status: number; body: string };
  try {
    answer = await getVersion(token, clusterCa, timeoutMs);
  } catch (err) {
    const message = (err as Error).message.split(token.secret).join("***");
    const tlsProblem = /certificate|self[- ]signed|altnames/i.test(message);
    return {
      ok: false,
      detail: `the API at ${where} cannot be asked: ${message}`,
      fix: tlsProblem
        ? "the API certificate is not signed by the cluster CA or does not name the endpoint's address: run `pvecm updatecerts --force` on that node"
        : "check that pveproxy runs on the node (`systemctl status pveproxy`) and that port 8006 is open from here",
    };
  }
  if (answer.status === 200) {
    let version = "";
    try {
      version = String((JSON.parse(answer.body) as { data?: { version?: unknown } }).data?.version ?? "");
    } catch {
      // the status says enough
    }
    return { ok: true, detail: `the API at ${where} answers${version ? `: Proxmox VE ${version}` : ""}` };
  }
  return {
    ok: false,
    detail: `the API at ${where} refuses the token: HTTP ${answer.status}`,
    fix: "the token was deleted or expired on the cluster: run the deploy (`up`) again to recreate it, or check `pveum user token list automation@pve`",
  };
}
