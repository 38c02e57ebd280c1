import { posix } from "node:path";
import type { ContainerMounts, ContainerUpload } from "@cdktf/provider-docker/lib/container";
import { terraformLiteral } from "../terraform/terraform-literal";

/**
 * Files uploaded into a container, and the mounts they need. Docker refuses to copy files into a
 * read-only root file system unless the target lies in a writable volume (the daemon's
 * `checkIfPathIsInAVolume`), so with a read-only root each upload directory gets an anonymous
 * volume: created with the container, removed with it, holding only what the image had there
 * and the uploaded files.
 */
export function dockerUploads(
  files: ReadonlyArray<{ readonly path: string; readonly content: string }>,
  permissions: string,
  readOnlyRoot: boolean,
): { upload?: ContainerUpload[]; mounts?: ContainerMounts[] } {
  if (files.length === 0) return {};
  const upload = files.map((f) => ({ file: f.path, content: terraformLiteral(f.content), permissions }));
  if (!readOnlyRoot) return { upload };
  const directories = [...new Set(files.map((f) => posix.dirname(f.path)))].sort();
  return { upload, mounts: directories.map((target) => ({ target, type: "volume" })) };
}
