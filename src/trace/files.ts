// Log files read on demand (the lab reader, the benchmark): a trace reads a few windows of a log
// and one pass for the seed search, through one reused buffer, instead of loading hundreds of
// megabytes (fresh memory is slow to fault in, and most of it would never be looked at).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { LogBytes } from "./buffers.ts";

export interface FileBytes extends LogBytes {
  close(): void;
}

export function fileBytes(path: string): FileBytes {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  let scratch = Buffer.allocUnsafe(64 * 1024);
  return {
    size,
    read(start: number, end: number): Buffer {
      const s = Math.max(0, start);
      const len = Math.max(0, Math.min(size, end) - s);
      if (len > scratch.length) scratch = Buffer.allocUnsafe(Math.max(len, scratch.length * 2));
      let got = 0;
      while (got < len) {
        const n = readSync(fd, scratch, got, len - got, s + got);
        if (n <= 0) break;
        got += n;
      }
      return scratch.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}
