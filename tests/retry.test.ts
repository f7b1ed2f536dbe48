import { describe, expect, it } from "vitest";
import { isRetryableFailure } from "../infra/retry";

const run = (code: number, stderr: string, stdout = "") => ({ code, stderr, stdout });

describe("isRetryableFailure", () => {
  it.each([
    ["ceph without monitor quorum", run(1, "[errno 110] RADOS timed out (error connecting to the cluster)\n")],
    ["ceph before its monitors exist", run(1, "monclient: get_monmap_and_config cannot identify monitors to contact\n[errno 2] RADOS object not found (error connecting to the cluster)\n")],
    ["ceph before ceph.conf is written", run(1, "Error initializing cluster client: ObjectNotFound('RADOS object not found (error calling conf_read_file)')\n")],
    ["a lock held by another task", run(255, "can't lock file '/var/lock/pvecm.lock' - got timeout\n")],
    ["pmxcfs restarting during a join", run(255, "ipcc_send_rec[1] failed: Connection refused\n")],
    ["a proxied node not answering yet", run(255, "proxy handler failed: ssh: connect to host 10.0.0.2 port 22: Connection refused\n")],
    ["no quorum yet", run(255, "cluster not ready - no quorum?\n")],
    ["ceph busy", run(16, "Error EBUSY: pool is in use\n")],
    ["a guest agent still starting", run(255, "QEMU guest agent is not running\n")],
    ["a VM still booting", run(255, "VM 100 is not running\n")],
    ["an agent not answering its ping yet", run(255, "guest-ping failed - got timeout\n")],
  ])("retries %s", (_what, result) => {
    expect(isRetryableFailure(result)).toBe(true);
  });

  it.each([
    ["an unknown ceph command (exit 22)", run(22, "no valid command found; 10 closest matches:\nmon dump [<epoch:int>]\nError EINVAL: invalid command\n")],
    ["EINVAL with another exit status", run(1, "Error EINVAL: invalid command\n")],
    ["exit 22 even when the text also mentions a timeout", run(22, "Error EINVAL: connect timed out is not a valid value\n")],
    ["an unknown option", run(255, "Unknown option: frobnicate\n400 unable to parse option\n")],
    ["permission denied", run(13, "Error EACCES: access denied\n")],
    ["a missing tool", run(127, "bash: line 1: ceph: command not found\n")],
    ["a PVE parameter error", run(255, "400 Parameter verification failed.\nlink0: invalid format\n")],
    ["an error nobody knows to be transient", run(1, "something unexpected happened\n")],
  ])("stops at once on %s", (_what, result) => {
    expect(isRetryableFailure(result)).toBe(false);
  });
});
