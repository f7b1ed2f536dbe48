/**
 * RemoteFile: one file on a node, or one marked block inside a file that
 * people also edit (/etc/hosts). Reads before it writes, so an unchanged file
 * is never rewritten and `pulumi refresh` sees hand edits as drift.
 *
 * A dynamic provider rather than the native `proxmoxve.FileLegacy` (which
 * only writes snippets/ISOs to Proxmox storages) or @pulumi/command's
 * `remote.CopyToRemote` (no read, so no drift and no idempotent re-run).
 */
import * as pulumi from "@pulumi/pulumi";
import { readBlock, removeBlock, writeBlock } from "../../managed-block";
import { command, quote, sh } from "../../shell";
import { CommandFailedError, SshSession, withSession } from "../../ssh";
import { CONNECTION_SECRET_OUTPUTS, ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";

export const REMOTE_FILE_PROVIDER_VERSION = "1";

/** Placeholder in `validateCommand` for the path of the candidate file. */
const CANDIDATE_PLACEHOLDER = "{}";
// Exported as an alias: provider code must not read `export const`s, which
// compile to `exports.X` and are undefined once the provider is serialized.
export const CANDIDATE = CANDIDATE_PLACEHOLDER;

export interface RemoteFileInputs extends ConnectionArgs {
  providerVersion: string;
  /** Absolute path. */
  path: string;
  /** Content of the whole file, or of the block. */
  content: string;
  /** When set, manage only the block with this id inside the file. */
  blockId?: string;
  /** Block mode: a new block goes before the first line matching this regex (source); else at the end. */
  insertBefore?: string;
  /** Octal mode for a whole file, e.g. "0644". Block mode keeps the file's mode. */
  fileMode?: string;
  /** Owner and group for a whole file. */
  owner?: string;
  group?: string;
  /** argv run against the candidate file before it replaces the real one; `{}` is the candidate path. */
  validateCommand?: string[];
  /** argv run after the file changed (not when it was already right). */
  onChangeCommand?: string[];
  /** On delete: "remove" the file/block (default) or "keep" it in place. */
  onDelete?: "remove" | "keep";
}

export type RemoteFileOutputs = RemoteFileInputs;

/** Exit code our read script uses for "no such file" (distinct from cat/stat failures). */
const MISSING = 3;

/** Exit code of the install script when validateCommand rejected the candidate. */
const VALIDATION_FAILED = 86;

interface FileState {
  exists: boolean;
  text: string;
  mode?: string;
  owner?: string;
  group?: string;
}

async function readFile(session: SshSession, path: string): Promise<FileState> {
  // stat first line, then the raw content; one round trip.
  const script = sh`if [ ! -e ${path} ]; then exit ${MISSING}; fi; stat -c '%a %U %G' -- ${path} && cat -- ${path}`;
  const result = await session.run(script);
  if (result.code === MISSING) return { exists: false, text: "" };
  if (result.code !== 0) throw new CommandFailedError(session.node, `read ${path}`, result);
  const newline = result.stdout.indexOf("\n");
  const [mode, owner, group] = result.stdout.slice(0, newline).split(" ");
  return { exists: true, text: result.stdout.slice(newline + 1), mode: mode.padStart(4, "0"), owner, group };
}

/** Write `text` to `path` atomically (temp file in the same directory, validated, then renamed). */
async function installFile(session: SshSession, inputs: RemoteFileInputs, text: string, current: FileState): Promise<void> {
  const dir = inputs.path.replace(/\/[^/]*$/, "") || "/";
  // Validation must stop the script explicitly: under `set -e` a failure on the left of `&&`
  // does NOT stop it, and the rejected candidate would be installed anyway.
  const validate = inputs.validateCommand?.length
    ? `if ! ${inputs.validateCommand.map((a) => (a === CANDIDATE_PLACEHOLDER ? '"$tmp"' : quote(a))).join(" ")}; then exit ${VALIDATION_FAILED}; fi; `
    : "";
  const mode = inputs.blockId && current.exists ? current.mode! : (inputs.fileMode ?? "0644");
  const owner = inputs.blockId && current.exists ? current.owner! : (inputs.owner ?? "root");
  const group = inputs.blockId && current.exists ? current.group! : (inputs.group ?? "root");
  const script =
    sh`set -e; mkdir -p -- ${dir}; tmp=$(mktemp -- ${`${dir}/.homelab.XXXXXX`}); trap 'rm -f -- "$tmp"' EXIT; ` +
    `cat > "$tmp"; ${validate}` +
    sh`chmod ${mode} "$tmp"; chown ${`${owner}:${group}`} "$tmp"; mv -f -- "$tmp" ${inputs.path}; trap - EXIT`;
  const result = await session.run(script, { stdin: text });
  if (result.code === VALIDATION_FAILED && inputs.validateCommand?.length) {
    // Name the validator, not the install script: "golf: visudo failed (exit 86): …".
    const shown = command(...inputs.validateCommand.map((a) => (a === CANDIDATE_PLACEHOLDER ? `<candidate for ${inputs.path}>` : a)));
    throw new CommandFailedError(session.node, `${shown} (the file was left unchanged)`, result);
  }
  if (result.code !== 0) throw new CommandFailedError(session.node, script, result);
}

/** Undo an install: the previous text and metadata, or no file when there was none. */
async function restoreFile(session: SshSession, inputs: RemoteFileInputs, previous: FileState): Promise<void> {
  if (!previous.exists) {
    await session.check(sh`rm -f -- ${inputs.path}`);
    return;
  }
  const asBefore = { ...inputs, validateCommand: undefined, fileMode: previous.mode, owner: previous.owner, group: previous.group };
  await installFile(session, asBefore, previous.text, previous);
}

function desiredText(inputs: RemoteFileInputs, current: FileState): string {
  if (!inputs.blockId) return inputs.content;
  const before = inputs.insertBefore ? new RegExp(inputs.insertBefore) : undefined;
  return writeBlock(current.text, inputs.blockId, inputs.content, before);
}

/** A block's content as it reads back: trailing newlines folded to one (none when empty). */
export function blockContent(text: string): string {
  const body = text.replace(/\n+$/, "");
  return body === "" ? "" : body + "\n";
}

function sameMeta(inputs: RemoteFileInputs, current: FileState): boolean {
  if (inputs.blockId) return true;
  return (
    current.mode === (inputs.fileMode ?? "0644").padStart(4, "0") &&
    current.owner === (inputs.owner ?? "root") &&
    current.group === (inputs.group ?? "root")
  );
}

/** Converge the node to the inputs; returns whether anything was written. */
export async function applyRemoteFile(inputs: RemoteFileInputs): Promise<boolean> {
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const current = await readFile(session, inputs.path);
      const text = desiredText(inputs, current);
      if (current.exists && current.text === text && sameMeta(inputs, current)) return false;
      await installFile(session, inputs, text, current);
      if (inputs.onChangeCommand?.length) {
        try {
          await session.check(command(...inputs.onChangeCommand));
        } catch (err) {
          // Put the old file back: the next run then sees the change again and retries the
          // command, instead of finding the file right and never running it.
          await restoreFile(session, inputs, current);
          throw new Error(`${(err as Error).message}\n  ${inputs.path} was put back as it was, so the next run retries the change`);
        }
      }
      return true;
    },
    sshOptions(inputs),
  );
}

export const remoteFileProvider: pulumi.dynamic.ResourceProvider<RemoteFileInputs, RemoteFileOutputs> = {
  async create(inputs) {
    await applyRemoteFile(inputs);
    return { id: `${inputs.connection.node}:${inputs.path}${inputs.blockId ? `#${inputs.blockId}` : ""}`, outs: inputs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const current = await withSession(sshTarget(props), (s) => readFile(s, props.path), sshOptions(props));
    if (!current.exists) return { id: "", props };
    if (props.blockId) {
      const block = readBlock(current.text, props.blockId);
      if (block === undefined) return { id: "", props };
      // Keep the stored spelling when only trailing newlines differ, so refresh shows real drift only.
      const content = blockContent(block) === blockContent(props.content) ? props.content : blockContent(block);
      return { id, props: { ...props, content } };
    }
    return {
      id,
      props: { ...props, content: current.text, fileMode: current.mode, owner: current.owner, group: current.group },
    };
  },

  async diff(_id, olds, news) {
    const replaceKeys: (keyof RemoteFileInputs)[] = ["path", "blockId"];
    const updateKeys: (keyof RemoteFileInputs)[] = [
      "content",
      "insertBefore",
      "fileMode",
      "owner",
      "group",
      "validateCommand",
      "onChangeCommand",
      "onDelete",
      "providerVersion",
    ];
    // Compare with the defaults applied: read reports the real mode/owner/group,
    // so an input that left them unset must not show as a change after refresh.
    const norm = (i: RemoteFileInputs, k: keyof RemoteFileInputs) => {
      if (k === "content" && i.blockId) return blockContent(i.content);
      if (k === "fileMode") return i.blockId ? null : (i.fileMode ?? "0644").padStart(4, "0");
      if (k === "owner" || k === "group") return i.blockId ? null : (i[k] ?? "root");
      return i[k] ?? null;
    };
    const differs = (k: keyof RemoteFileInputs) => JSON.stringify(norm(olds, k)) !== JSON.stringify(norm(news, k));
    const replaces = [
      ...replaceKeys.filter(differs),
      ...(olds.connection?.node !== news.connection?.node ? ["connection"] : []),
    ];
    const changes = replaces.length > 0 || updateKeys.some(differs) || differs("connection");
    return { changes, replaces, deleteBeforeReplace: replaces.length > 0 };
  },

  async update(_id, _olds, news) {
    await applyRemoteFile(news);
    return { outs: news };
  },

  async delete(_id, props) {
    if (props.onDelete === "keep") return;
    await withSession(
      sshTarget(props),
      async (session) => {
        if (!props.blockId) {
          await session.check(command("rm", "-f", "--", props.path));
          return;
        }
        const current = await readFile(session, props.path);
        if (!current.exists || readBlock(current.text, props.blockId) === undefined) return;
        await installFile(session, props, removeBlock(current.text, props.blockId), current);
      },
      sshOptions(props),
    );
  },
};

/** Arguments as a program passes them. */
export interface RemoteFileArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Absolute path on the node. */
  path: pulumi.Input<string>;
  /** Whole-file content, or block content when `blockId` is set. */
  content: pulumi.Input<string>;
  /** Manage only this marked block inside the file. Defaults to the whole file. */
  blockId?: pulumi.Input<string>;
  /** Block mode: insert a new block before the first line matching this regex. Defaults to appending. */
  insertBefore?: pulumi.Input<string>;
  /** Octal mode of a whole file. Defaults to "0644". */
  fileMode?: pulumi.Input<string>;
  /** Owner of a whole file. Defaults to "root". */
  owner?: pulumi.Input<string>;
  /** Group of a whole file. Defaults to "root". */
  group?: pulumi.Input<string>;
  /** argv checking the candidate (`{}`) before install, e.g. ["visudo", "-cf", "{}"]. */
  validateCommand?: pulumi.Input<string[]>;
  /** argv run after a change, e.g. ["update-initramfs", "-u", "-k", "all"]. */
  onChangeCommand?: pulumi.Input<string[]>;
  /** "keep" leaves the file on the node when the resource is deleted. Defaults to "remove". */
  onDelete?: pulumi.Input<"remove" | "keep">;
}

/** Registered as `pulumi-nodejs:dynamic/node:RemoteFile`. */
export class RemoteFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;

  constructor(name: string, args: RemoteFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      remoteFileProvider,
      name,
      {
        ...args,
        sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey),
        providerVersion: REMOTE_FILE_PROVIDER_VERSION,
      },
      { ...opts, additionalSecretOutputs: [...CONNECTION_SECRET_OUTPUTS, ...(opts?.additionalSecretOutputs ?? [])] },
      "node",
      "RemoteFile",
    );
  }
}
