import { config } from '../config.ts';
import type { BlobStore } from './blobStore.ts';
import { LocalDiskStore } from './localDisk.ts';

export type { BlobStore } from './blobStore.ts';

/** Live dumps (the crash store's DUMPS_DIR layout) and their gzip'd archive copies. */
export interface DumpStores {
  live: BlobStore;
  archive: BlobStore;
}

/** The stores the configuration names. Today both are local folders; S3 would plug in here. */
export function dumpStores(
  dirs: { live: string; archive: string } = { live: config.dumpsDir, archive: config.dumps.archiveDir },
): DumpStores {
  return { live: new LocalDiskStore(dirs.live), archive: new LocalDiskStore(dirs.archive) };
}

/** Triage artifacts: source map bundles (chunks/, files/) and event attachments (attachments/). */
export function artifactStore(dir: string = config.artifacts.dir): BlobStore {
  return new LocalDiskStore(dir);
}
