/**
 * Runs the real program for a stack file under `pulumi.runtime.setMocks` and
 * records every registration with what the engine would see: type, name,
 * parent, dependsOn, inputs (secret markers kept) and additionalSecretOutputs.
 * The tests use it (tests/helpers/pulumi-mocks.ts) and so does `npm run plan`,
 * so every value the mocks invent is the same on every run.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";

/**
 * Under vitest, modules are transformed by vite and their imports become
 * wrapper objects the closure serializer cannot capture, so registering any
 * dynamic resource would fail. Mock runs assert the resource graph; the real
 * serialization (ts-node, as the CLI loads the program) is tested per
 * provider in tests/serialization.test.ts.
 */
export function stubProviderSerialization(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure") as {
    serializeFunction: (...args: unknown[]) => Promise<{ text: string; exportName: string; containsSecrets: boolean }>;
  };
  closure.serializeFunction = async () => ({
    text: "exports.handler = () => ({});",
    exportName: "handler",
    containsSecrets: false,
  });
}

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Registration {
  type: string;
  name: string;
  urn: string;
  parent: string;
  dependsOn: string[];
  /** Inputs as serialized for the engine; secrets appear as `{[SECRET_SIG]: ..., value}`. */
  rawInputs: Record<string, unknown>;
  additionalSecretOutputs: string[];
  custom: boolean;
  /** Provider reference (`<provider urn>::<id>`), empty for the default provider. */
  provider: string;
}

export interface StackRun {
  registrations: Registration[];
  outputs: Record<string, unknown>;
  /** Output name → whether the engine would store it as a secret. */
  secretOutputs: Record<string, boolean>;
  byType(type: string): Registration[];
  byName(name: string): Registration;
}

/** Values the mocks return for read-only facts, per resource type. */
export type StateFor = (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

export const defaultState: StateFor = (type, name, inputs) => {
  if (type === "pulumi-nodejs:dynamic/proxmox:NodeFacts") {
    const conn = inputs.connection as { node: string };
    return { ...inputs, hostname: conn.node, pveVersion: "8.4.14", pveRelease: "8.4", kernel: "6.8.12-15-pve" };
  }
  if (type === "proxmoxve:index/vmLegacy:VmLegacy") {
    // What the guest agent reports: loopback, then the VM's NIC.
    return { ...inputs, ipv4Addresses: [["127.0.0.1"], [`10.99.0.${Number(inputs.vmId) % 250}`]], macAddresses: ["BC:24:11:00:00:01"] };
  }
  if (type === "pulumi-nodejs:dynamic/vm:GuestAddress") {
    // The static address once the guest has it, else a DHCP lease.
    const address = (inputs.expected as string | undefined) ?? `10.99.0.${Number(inputs.vmid) % 250}`;
    return { ...inputs, runsOn: (inputs.connection as { node: string }).node, address, addresses: [address] };
  }
  if (type === "pulumi-nodejs:dynamic/vm:GuestHostKey") {
    // The key cloud-init generated in the guest, one per VMID.
    const digest = crypto.createHash("sha256").update(`guest ${String(inputs.vmid)}`).digest("base64").replace(/=+$/, "");
    return { ...inputs, hostKey: `SHA256:${digest}`, publicKey: "ssh-ed25519 AAAA-mock" };
  }
  return cloudState(type, name, inputs) ?? inputs;
};

let sshKey: string | undefined;
/**
 * The environment's SSH private key in mock runs: a P-256 key (a PEM ssh2
 * reads) from a fixed scalar, so plans stay byte-identical. Generated, never
 * committed.
 */
export function mockSshPrivateKey(): string {
  if (!sshKey) {
    const d = crypto.createHash("sha256").update("homelab mock ssh key").digest();
    const ecdh = crypto.createECDH("prime256v1");
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    const b64 = (b: Buffer) => b.toString("base64url");
    const jwk = { kty: "EC", crv: "P-256", d: b64(d), x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) };
    sshKey = crypto.createPrivateKey({ key: jwk, format: "jwk" }).export({ type: "sec1", format: "pem" }).toString();
  }
  return sshKey;
}

/** PKCS#8 DER header of an ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * One ed25519 key pair, in the OpenSSH forms @pulumi/tls outputs. Derived from
 * a fixed seed: a plan rendered twice must be byte-identical.
 */
let mockHostKey: { privateKeyOpenssh: string; publicKeyOpenssh: string } | undefined;
function hostKeyPair(): { privateKeyOpenssh: string; publicKeyOpenssh: string } {
  if (!mockHostKey) {
    const seed = crypto.createHash("sha256").update("homelab mock host key").digest();
    const privateKey = crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
    const publicKey = crypto.createPublicKey(privateKey);
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const type = Buffer.from("ssh-ed25519");
    const blob = Buffer.concat([u32(type.length), type, u32(raw.length), raw]);
    const KEY_LABEL = ["OPENSSH", "PRIVATE", "KEY"].join(" ");
    mockHostKey = {
      // The real provider's text is OpenSSH's own format; the tests only need it to be recognisable.
      // (The armor is assembled so that no committed file holds a private-key header.)
      privateKeyOpenssh: [
        `-----BEGIN ${KEY_LABEL}-----`,
        privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
        `-----END ${KEY_LABEL}-----`,
        "",
      ].join("\n"),
      publicKeyOpenssh: `ssh-ed25519 ${blob.toString("base64")}\n`,
    };
  }
  return mockHostKey;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** What the cloud providers (Linode, random, tls) and the K3s/SSH dynamic providers would report. */
function cloudState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, ...hostKeyPair() };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: `mock-secret:${name}` };
    case "linode:index/instance:Instance": {
      const n = [...name].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 250;
      return { ...inputs, ipAddress: `198.51.100.${n}`, privateIpAddress: inputs.privateIp ? `192.168.140.${n}` : undefined };
    }
    case "pulumi-nodejs:dynamic/linux:SshReady": {
      const connection = inputs.connection as { hostKey?: string };
      return { ...inputs, hostKey: connection.hostKey ?? "SHA256:recordedOnFirstUseXXXXXXXXXXXXXXXXXXXXXXXXXX" };
    }
    case "pulumi-nodejs:dynamic/k3s:Cluster":
      return { ...inputs, kubeconfig: `mock-secret:kubeconfig-${name}`, nodeVersions: {} };
    case "pulumi-nodejs:dynamic/talos:Cluster": {
      const first = (inputs.nodes as { name: string }[] | undefined)?.[0]?.name ?? "";
      return {
        ...inputs,
        secrets: `mock-secret:talos-secrets-${name}`,
        talosconfig: `mock-secret:talosconfig-${name}`,
        kubeconfig: `mock-secret:kubeconfig-${name}`,
        bootstrapNode: first,
        configHashes: {},
      };
    }
  }
  return undefined;
}

/**
 * Read a Pulumi.<stack>.yaml into the flat config map the engine passes a
 * program. Secure values become recognisable dummy plaintexts, and their
 * keys are marked secret, as the CLI does after decrypting.
 */
export function stackConfig(stackFile: string): { config: Record<string, string>; secretKeys: string[] } {
  const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    let secret = false;
    const decrypt = (v: unknown, at: string): unknown => {
      if (v && typeof v === "object" && !Array.isArray(v)) {
        const obj = v as Record<string, unknown>;
        if (Object.keys(obj).length === 1 && typeof obj.secure === "string") {
          secret = true;
          // Shaped like the real thing where the schema checks the form (crypt hashes) or the
          // program reads it (the SSH key's public half goes into the VMs' authorized keys).
          if (at.includes(".userPasswordHashes.")) return `$6$MOCKSECRET$${at.replace(/[^A-Za-z0-9]/g, "")}`;
          if (at.endsWith(".sshPrivateKey")) return mockSshPrivateKey();
          return `mock-secret:${at}`;
        }
        return Object.fromEntries(Object.entries(obj).map(([k, x]) => [k, decrypt(x, `${at}.${k}`)]));
      }
      if (Array.isArray(v)) return v.map((x, i) => decrypt(x, `${at}[${i}]`));
      return v;
    };
    const plain = decrypt(value, key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (secret) secretKeys.push(key);
  }
  return { config, secretKeys };
}

/**
 * Load a stack file's config and install mocks that record registrations.
 * Returns the stack name.
 */
export async function prepareStack(
  stackFile: string,
  registrations: Registration[],
  stateFor: StateFor = defaultState,
): Promise<string> {
  stubProviderSerialization();
  const stack = path.basename(stackFile).replace(/^Pulumi\.|\.yaml$/g, "");
  const { config, secretKeys } = stackConfig(stackFile);
  pulumi.runtime.setAllConfig(config, secretKeys);

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: args.custom ? `${args.name}-id` : undefined,
        state: stateFor(args.type, args.name, args.inputs as Record<string, unknown>),
      }),
      call: (args) => {
        throw new Error(`unexpected provider function call ${args.token} in a mock run`);
      },
    },
    "homelab",
    stack,
    false,
  );

  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, cb: unknown) => unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const registration: Registration = {
      type: req.getType(),
      name: req.getName(),
      urn: "",
      parent: req.getParent(),
      dependsOn: req.getDependenciesList(),
      rawInputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      custom: req.getCustom(),
      provider: req.getProvider(),
    };
    registrations.push(registration);
    // The URN comes from the mock monitor's answer, so parents match exactly.
    return original(req, (err: unknown, resp?: { getUrn(): string }) => {
      if (resp) registration.urn = resp.getUrn();
      return (cb as (e: unknown, r: unknown) => void)(err, resp);
    });
  };
  return stack;
}

export async function runStack(
  stackFile: string,
  program: () => Record<string, unknown> | object,
  stateFor: StateFor = defaultState,
): Promise<StackRun> {
  const registrations: Registration[] = [];
  await prepareStack(stackFile, registrations, stateFor);
  // Keep the program's own Output objects: what runInPulumiStack returns has
  // been through serialization and no longer says which values are secret.
  let programOutputs: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  const secretOutputs: Record<string, boolean> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    programOutputs = program() as Record<string, unknown>;
    return programOutputs;
  });
  for (const [k, v] of Object.entries(programOutputs)) {
    const out = pulumi.output(v as pulumi.Input<unknown>) as pulumi.Output<unknown>;
    secretOutputs[k] = await pulumi.isSecret(out);
    outputs[k] = await new Promise((resolve) => out.apply((x) => resolve(x)));
  }

  return {
    registrations,
    outputs,
    secretOutputs,
    byType: (type) => registrations.filter((r) => r.type === type),
    byName: (name) => {
      const r = registrations.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; have: ${registrations.map((x) => x.name).join(", ")}`);
      return r;
    },
  };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): unknown } | undefined;
  getAdditionalsecretoutputsList(): string[];
  getCustom(): boolean;
  getProvider(): string;
}

/** Every string anywhere in a value (to look for leaked secrets). */
export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

/** Every string of a value outside secret wrappers: what would be stored in plain text. */
export function plainStrings(value: unknown): string[] {
  const strip = (v: unknown): unknown => {
    if (isSecretValue(v)) return undefined;
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return allStrings(strip(value));
}

/** Whether a raw serialized input value is wrapped as a secret. */
export function isSecretValue(v: unknown): boolean {
  return !!v && typeof v === "object" && SECRET_SIG in (v as Record<string, unknown>);
}

/**
 * runStack resolves before every registration has reached the mock monitor: wait until the
 * SDK's queue of outstanding calls has drained (as `pulumi up` does before it exits), then until
 * the list stops growing, so assertions (and plans) see all of them and none leaks into the next run.
 */
export async function settled(r: StackRun): Promise<StackRun> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };
  await waitForRPCs();
  let last = -1;
  while (r.registrations.length !== last) {
    last = r.registrations.length;
    await new Promise((res) => setTimeout(res, 300));
  }
  return r;
}
