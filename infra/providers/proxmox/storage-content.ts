/**
 * StorageContent: make sure a storage allows some content types (e.g.
 * `snippets` on `local`, for cloud-init vendor data), keeping every type it
 * already has.
 *
 * A dynamic provider over `pvesh get|set /storage/<id>` rather than the native
 * `proxmoxve.storage.Directory`, because `local` exists from the installer on:
 * the native resource would have to import and then own the whole storage
 * definition (path, shared flag, every content type), where homelab only needs
 * to add one content type to it. Storage config is cluster-wide
 * (/etc/pve/storage.cfg), so one resource per cluster suffices.
 *
 * Delete keeps the content types: VMs may still reference snippets on it
 * (`cicustom`), and a VM whose snippet storage lost the type fails to start.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseToolJson } from "../../parse/json";
import { supportsContent } from "../../storage-types";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const STORAGE_CONTENT_PROVIDER_VERSION = "1";

export interface StorageContentInputs extends ConnectionArgs {
  providerVersion: string;
  /** Storage ID, e.g. "local". */
  storage: string;
  /** Content types that must be enabled, e.g. ["snippets"]. */
  content: string[];
}

export interface StorageContentOutputs extends StorageContentInputs {
  /** Storage type (dir, nfs, …). */
  storageType: string;
  /** Every content type the storage has, sorted. */
  effectiveContent: string[];
}


interface StorageEntry {
  type: string;
  content: string[];
}

async function readStorage(session: SshSession, storage: string): Promise<StorageEntry | undefined> {
  const argv = ["pvesh", "get", `/storage/${storage}`, "--output-format", "json"];
  const r = await session.run(inCLocale(command(...argv)));
  if (r.code !== 0 && /does not exist/.test(r.stderr)) return undefined;
  if (r.code !== 0) throw new CommandFailedError(session.node, command(...argv), r);
  const entry = parseToolJson<{ type?: unknown; content?: unknown }>(r.stdout, session.node, argv.slice(0, 3).join(" "));
  const content = typeof entry.content === "string" ? entry.content.split(",").filter(Boolean) : [];
  return { type: typeof entry.type === "string" ? entry.type : "unknown", content: [...new Set(content)].sort() };
}

/** Add the missing content types; runs no `pvesh set` when none are missing. */
export async function ensureStorageContent(inputs: StorageContentInputs): Promise<Pick<StorageContentOutputs, "storageType" | "effectiveContent">> {
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const current = await readStorage(session, inputs.storage);
      if (!current) throw new Error(`${session.node}: storage '${inputs.storage}' does not exist; define it first (pvesm add / the storage config)`);
      const unsupported = inputs.content.filter((c) => !supportsContent(current.type, c));
      if (unsupported.length) {
        throw new Error(`${session.node}: storage '${inputs.storage}' is of type ${current.type}, which cannot hold ${unsupported.join(", ")}; use a directory-type storage (dir, nfs, cifs, cephfs)`);
      }
      const missing = inputs.content.filter((c) => !current.content.includes(c));
      if (missing.length === 0) return { storageType: current.type, effectiveContent: current.content };
      const want = [...current.content, ...missing].sort();
      await session.check(inCLocale(command("pvesh", "set", `/storage/${inputs.storage}`, "--content", want.join(","))));
      const after = await readStorage(session, inputs.storage);
      const stillMissing = inputs.content.filter((c) => !after?.content.includes(c));
      if (!after || stillMissing.length) {
        throw new Error(`${session.node}: storage '${inputs.storage}' still lacks content ${stillMissing.join(", ")} after pvesh set reported success`);
      }
      return { storageType: after.type, effectiveContent: after.content };
    },
    sshOptions(inputs),
  );
}

export const storageContentProvider: pulumi.dynamic.ResourceProvider<StorageContentInputs, StorageContentOutputs> = {
  async create(inputs) {
    const applied = await ensureStorageContent(inputs);
    return { id: inputs.storage, outs: { ...inputs, ...applied } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        const current = await readStorage(session, props.storage);
        if (!current) return { id: "", props };
        return { id, props: { ...props, storageType: current.type, effectiveContent: current.content } };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const replaces = olds.storage !== news.storage || isUnknown(news.storage) ? ["storage"] : [];
    // Drift (a type removed by hand, seen by refresh) is a change too.
    const missing = isUnknown(news.content) || news.content.some((c) => !(olds.effectiveContent ?? []).includes(c));
    const changes =
      replaces.length > 0 ||
      missing ||
      stableJson([...news.content].sort()) !== stableJson([...(olds.content ?? [])].sort()) ||
      olds.providerVersion !== news.providerVersion ||
      stableJson(olds.connection) !== stableJson(news.connection);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const applied = await ensureStorageContent(news);
    return { outs: { ...news, ...applied } };
  },

  // Delete keeps the content types (see the file comment).
  async delete() {},
};

/** Resource inputs as a program passes them. */
export interface StorageContentArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Storage ID. */
  storage: pulumi.Input<string>;
  /** Content types that must be enabled on it. */
  content: pulumi.Input<pulumi.Input<string>[]>;
}

/** Registered as `pulumi-nodejs:dynamic/storage:StorageContent`. */
export class StorageContent extends pulumi.dynamic.Resource {
  declare readonly storage: pulumi.Output<string>;
  declare readonly storageType: pulumi.Output<string>;
  declare readonly effectiveContent: pulumi.Output<string[]>;

  constructor(name: string, args: StorageContentArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      storageContentProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, STORAGE_CONTENT_PROVIDER_VERSION),
        storageType: undefined,
        effectiveContent: undefined,
      },
      sshResourceOptions(opts),
      "storage",
      "StorageContent",
    );
  }
}
