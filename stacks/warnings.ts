/**
 * Settings that are valid but unsafe, and values left over from the reference
 * stack files: reported as warnings (never errors) by `npm run validate` and
 * by the Pulumi program, each with its path.
 */
import { formatPath } from "./errors";

/**
 * The placeholder values the reference stack files (Pulumi.matrix.yaml,
 * Pulumi.ms01.yaml, Pulumi.fluodata.yaml, Pulumi.vps.yaml, Pulumi.doggos.yaml, Pulumi.nexus.yaml) carry: host key fingerprints of the right format that
 * are no node's, public keys nobody holds, and dummy ciphertext. A stack file
 * copied from one of them carries these until they are replaced.
 */
export const REFERENCE_PLACEHOLDERS = {
  hostKeys: [
    "SHA256:BwQApq+4Is5EchuWDyu7dMQT82T/iieOZPmHNntWf8Q",
    "SHA256:JMPSMDbvO6VYpm4PGyaMXW/0TwK/wWd5Qj/+gymXXAs",
    "SHA256:3OEL2MDyj2wrjlz2YUM7FQkkRvwDhvihCIFK5I6Akq0",
    "SHA256:p8D3SZhaUKPFBxvVqf619+cjUsvzcFDar+e+E4WdMJk",
    "SHA256:9hAfMS1JX1CvWIiCJV4CfFc28jxcMubIpkcG3gN+83o",
    "SHA256:xQ81RURXhuo22eSEcfc257zHplETIpV06thXXRN1f9E",
    "SHA256:Jx6V0cTqz9m8Wd2Rk5Lh3Pn7Yb4Fs1Ga0Ce6Ui9Ko2E",
    "SHA256:Vq7Rz2Lk9Mw4Tn8Xc3Bp6Hs1Jd5Fg0Ya2Ue7Io4Kl9N",
    // doggos and nexus
    "SHA256:FtP8Gl+DB2A2x6qHdeC6N0n+rn6AG0hFLVIVrMD2cBs",
    "SHA256:54RkwhGBOi/uE7djXmSBGr6joYJ5nSacZK368o7wF00",
    "SHA256:+YLqj1YvT0DoZhrNukIr/fPjjXzlwZLEXOTDHp65o0c",
    "SHA256:WDlDW4ExYVH796/C1OoIiX1vkzYxT/nSxwP6ikjwHrY",
    "SHA256:SFm9imwqtRY0IM3G/eZ8nyVG4pJpbeF9Rc3HzDIPPj0",
    "SHA256:AnK75gt3fJZYRS2MKht4iguAVNtNl0ZDPYv7HDEPFL8",
  ],
  /** The base64 key blobs of placeholder `ssh-ed25519 …` public keys. */
  publicKeys: [
    "AAAAC3NzaC1lZDI1NTE5AAAAIHkzq3n2y6kVb0n3z7Q9yYbW8a8nT3m5P2rW3s9qgQ3Z",
    "AAAAC3NzaC1lZDI1NTE5AAAAIMtEugVRhd07Me/7FLwF44Fkv8oSHB/8wKBwv1Nr1SZN",
    "AAAAC3NzaC1lZDI1NTE5AAAAIGh2O2d2nLw41N3cvAG15MIqPYbyod24+mxHdQdXfMpL",
  ],
  encryptionSalts: [
    "v1:dG9DffvQSFk=:v1:KXYRVB4FC/8jJ9Vb:Gzi1jz4YSw1TxHRxojmVfX0kFpRgDrIqzvrmP0Yrips=",
    "v1:mE0z7qY1c2U=:v1:Mx/+T6sZdQatb6gP:87vkwwXUKZEOwbnf/bnikZF1vN5lFckIFm2e7INIMy0=",
    "v1:Zmx1b2RhdGE=:v1:Hq3Lm8Nc2Vx7Rt1p:Yk2Qm9Lp3Xn6Vb8Rt1Wc4Hs7Jd0Ff5Gg2Hh9Kk6Ll3Mm0=",
    "v1:dnBzLXNhbHQ=:v1:Ur4Kc7Wm1Nq9Xb3T:Zq8Lm2Np6Rt0Vx4Bc7Df1Gh5Jk9Lm3Np7Qr1St5Vw9Xy3=",
    // doggos and nexus
    "v1:2tCGzNPneWI=:v1:/3nyYJRCUB34NPOE:d6zTIAB8bWxpaQtdgHRLGgfum58A61OmU/zx4KSIrAk=",
    "v1:ixROeMbTFjE=:v1:2ll2Eo+lYRlw+Ygv:nm3FshxBlChWM3C7cLNqXzq5kpyX4VtfhW5AuzDTsEE=",
  ],
  ciphertexts: [
    "v1:wO3QeuNv7jjZnv3y:GrVXf2vU9ifTo9Xhdu4qJKhdF+2SSzEWTjleGnigRN6ncIf/lPQMvg==",
    "v1:ybIdVNv7znEeFI/x:DnnyBL8fTOGqt+qO1FhtMmXQImneq/uP8xVhjuNSRLvNA73N0DX7wA==",
    "v1:Ieiy8wu8oamcODuK:2P51b+mogrw9cdWB1JU52jl7aIi+4bmWf3O6TEaJ4G4MaSe5Jd24iA==",
    "v1:z0W6Dy41t8Htj26Y:7XVNs1UnPvIgftZedp8cx2+NvvbHZ9Y8/85a1UwaXxW5FDunHvI3gw==",
    "v1:w3ZkygMyBfyrLwnP:dp5F/yT84hNFBtNWQYO2Fy2sevgu6CCIJVjH9kZNPgAlcCvXwHghCg==",
    "v1:HYL2WJpuKjdYDEI8:cyb6yOGg/1HmRi1lfo9KwW5clRH4wLtXRmk7DXnh4Wb7/qGNeoF3Bw==",
    "v1:aQvyAi+qPhC0N9iG:t0h8c97fCtidTfTy63KCHhLqsmg8GVw5s6SNZwXRE1Hj+iI1zC+QXw==",
    "v1:LeZibKZkDwoGH0HL:ouji/D9YK8f7EmJiG6EW7GjzNwkud3DEnqeOqvix8Qk4Nr+gp43G6A==",
    "v1:Zm9vYmFyYmF6cXV4:bm90LWEtcmVhbC1oYXNoLXBsYWNlaG9sZGVyLWNpcGhlcnRleHQ=",
    "v1:Qw3Er5Ty7Ui9Op1A:Sd3Fg5Hj7Kl9Zx1Cv3Bn5Mm7Qw9Er1Ty3Ui5Op7As9Df1Gh3Jk5Ll7Zx9Cv1Bn3Mm5==",
    "v1:Pz5Ky8Rw2Qt6Vn1M:Jh4Gf7Ds1Az5Xc9Vb3Nm7Lk1Jh5Gf9Ds3Az7Xc1Vb5Nm9Lk3Jh7Gf1Ds5Az9Xc3==",
    // doggos and nexus
    "v1:EI+XHRqQWlvLZzcw:zPtUb1gWveuPovlC5DUasOMQTGeq48U0L4Sq6Q+7nDoKXSaEshEDHw==",
    "v1:QCacBTeutmIJ5MrP:5E2lO7OycJMzeeGZBqIBvZTNkuZdnciKJn2MCWfygNS23qRxuh2HyQ==",
    "v1:xgIuqoFwTC8ABH4l:FJHHEJ+dTyW81F6fAAZuJMjBIvQCG//Qrn2ib92uTjW3bRMA8PQDnQ==",
    "v1:Mee6mV/LwnuarWZC:a/Ui7ATlNiITlna213ANQltubG3ZAaMV9of1x/vEWUK4Po915VCe9A==",
    "v1:FNgiI2x4NrFPey0O:DzT+1rtd4cEmP+aw4o197a+jpJqQnq2szXpikeeocIQs+lW/7/EsN/Ujg59F5tyB5BfKCYg1O/Ju0RuQ",
    "v1:tzuF9ezDEtpAxsi+:7PnLn9VzY+r5D8WSqaoJD8iUNehiWe1tLYya9yrCe+Wi7i83wNIDj8pjMNdEkVgJzDjAiC1saagQYVso",
    "v1:1PuFsKmsILxENtR7:ka//EALqP1B5fB9gxEXzCaTTNGgEeHYqAojCZjc7JAm7PDc5EXmRDH1/vCfAjKafLeFZHPZe7HAkJ+Mi",
    "v1:2xH2uMzmbhRN23OU:G2J7BO0nLsjqMmMYKluFUZ4tNyHWPw3SZjsDOJ22lY6gRRTvCnoS3EPLBL5RYL+MMikNZJgUhAqRPBN9",
    "v1:obmUv5CF2piYaea9:i2DdP/nRXljf8cdPPMLK4SmaY1XALbJwtxyaG72IYjgVpKuzN4+Ltg==",
  ],
} as const;

type Path = (string | number)[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every string leaf with its path. */
function strings(v: unknown, at: Path = []): { path: Path; value: string }[] {
  if (typeof v === "string") return [{ path: at, value: v }];
  if (Array.isArray(v)) return v.flatMap((item, i) => strings(item, [...at, i]));
  if (isRecord(v)) return Object.entries(v).flatMap(([k, item]) => strings(item, [...at, k]));
  return [];
}

/** Warnings for a raw (as written) environment, one line each: `<path>: <why>`. */
export function environmentWarnings(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const out: string[] = [];
  const nodes = Array.isArray(raw.nodes) ? raw.nodes : [];
  nodes.forEach((node, i) => {
    if (!isRecord(node)) return;
    if (node.insecureIgnoreHostKey === true) {
      out.push(
        `${formatPath(["nodes", i, "insecureIgnoreHostKey"])}: true; the host key is not checked, so anyone on the network path ` +
          `can impersonate ${typeof node.name === "string" ? node.name : "this node"} (pin it: npm run host-keys -- <stack>)`,
      );
    }
  });
  const api = raw.apiAccess;
  if (isRecord(api) && api.insecureTls === true) {
    out.push(`apiAccess.insecureTls: true; the API certificate is not checked, so anyone on the network path can take the API token; instead run npm run trust-ca -- <stack> (npm run homelab then sets SSL_CERT_FILE)`);
  }
  for (const { path, value } of strings(raw)) {
    const last = path[path.length - 1];
    if (last === "hostKey" && (REFERENCE_PLACEHOLDERS.hostKeys as readonly string[]).some((k) => value.includes(k))) {
      out.push(`${formatPath(path)}: the placeholder from the reference stack files, not this node's key; get the real one with npm run host-keys -- <stack>`);
    } else if (REFERENCE_PLACEHOLDERS.publicKeys.some((k) => value.includes(k))) {
      out.push(`${formatPath(path)}: a placeholder public key from the reference stack files; put your own public key here`);
    }
  }
  return out;
}

/**
 * Warnings about the stack file around the environment: the reference files'
 * dummy encryption salt and ciphertext (no passphrase decrypts them).
 */
export function stackFileWarnings(top: Record<string, unknown>, secretsKey: string): string[] {
  const out: string[] = [];
  if (typeof top.encryptionsalt === "string" && (REFERENCE_PLACEHOLDERS.encryptionSalts as readonly string[]).includes(top.encryptionsalt)) {
    out.push(
      "encryptionsalt: the reference stack files' dummy salt; delete the line, run `pulumi stack init <stack> --secrets-provider passphrase` " +
        "(it writes a new salt) and set every secret again",
    );
  }
  const config = isRecord(top.config) ? top.config : {};
  for (const { path, value } of strings(config[secretsKey])) {
    if (path[path.length - 1] === "secure" && (REFERENCE_PLACEHOLDERS.ciphertexts as readonly string[]).includes(value)) {
      out.push(`${formatPath(["secrets", ...path.slice(0, -1)])}: placeholder ciphertext from the reference stack files; set it with pulumi config set --secret`);
    }
  }
  return out;
}
