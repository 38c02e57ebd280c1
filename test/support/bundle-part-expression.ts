/**
 * A Kubernetes bundle part as the stack's JSON holds it, a Terraform expression over the file
 * asset of the bundle (`${base64decode(substr(filebase64("assets/…"), offset, length))}`), read
 * back into the bytes it stands for.
 */
const PART = /^\$\{base64decode\(substr\(filebase64\("(assets\/[^"]+)"\), (\d+), (\d+)\)\)\}$/;

export interface BundlePartExpression {
  /** The asset's path, relative to the stack's directory. */
  readonly path: string;
  /** Offset and length in the file's base64. */
  readonly offset: number;
  readonly length: number;
}

export function parseBundlePart(data: string): BundlePartExpression {
  const match = PART.exec(data);
  if (match === null) throw new Error(`not a bundle part expression: ${data.slice(0, 200)}`);
  return { path: match[1], offset: Number(match[2]), length: Number(match[3]) };
}

/** The bytes the expression gives for the file `file`, as Terraform evaluates it. */
export function bundlePartBytes(part: BundlePartExpression, file: Buffer): Buffer {
  return Buffer.from(file.toString("base64").substr(part.offset, part.length), "base64");
}
