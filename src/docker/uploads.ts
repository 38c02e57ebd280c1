import { posix } from "node:path";
import type { ContainerMounts, ContainerUpload } from "@cdktf/provider-docker/lib/container";
import { terraformLiteral } from "../terraform/terraform-literal";

/**
 * Files uploaded into a container (given as content, or as uploads `fromFiles` such as a file
 * asset's), and the mounts they need. Docker refuses to copy files into a
 * read-only root file system unless the target lies in a writable volume (the daemon's
 * `checkIfPathIsInAVolume`), so with a read-only root each upload directory gets an anonymous
 * volume: created with the container, removed with it, holding only what the image had there
 * and the uploaded files.
 */
export function dockerUploads(
  files: ReadonlyArray<{ readonly path: string; readonly content: string }>,
  permissions: string,
  readOnlyRoot: boolean,
  fromFiles: ReadonlyArray<ContainerUpload> = [],
): { upload?: ContainerUpload[]; mounts?: ContainerMounts[] } {
  const upload = [...files.map((f) => ({ file: f.path, content: terraformLiteral(f.content), permissions })), ...fromFiles];
  if (upload.length === 0) return {};
  if (!readOnlyRoot) return { upload };
  const directories = [...new Set(upload.map((u) => posix.dirname(u.file)))].sort();
  return { upload, mounts: directories.map((target) => ({ target, type: "volume" })) };
}

/** Uploads plus further mounts of the container (volumes it reads or writes), after the uploads' own. */
export function withMounts(uploads: ReturnType<typeof dockerUploads>, mounts: ReadonlyArray<ContainerMounts>): ReturnType<typeof dockerUploads> {
  if (mounts.length === 0) return uploads;
  return { ...uploads, mounts: [...(uploads.mounts ?? []), ...mounts] };
}
