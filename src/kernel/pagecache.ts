/**
 * The page cache of a Linux kernel model (mm/filemap.c, mm/vmscan.c,
 * mm/page-writeback.c of 2.6.30/2.6.31, as far as file streaming needs):
 * which pages of which file are cached, up to date, dirty, under writeback
 * or being read; the global dirty / writeback counts the writeback
 * thresholds are computed from; and reclaim of clean pages when memory is
 * full. Costs and tunables: data/block/linux-block.json.
 *
 * Reclaim follows the order pages entered the cache (a FIFO over the
 * cached pages, skipping pages that are dirty, under writeback or being
 * read: they go to the tail, as shrink_page_list puts them back on the
 * LRU). For streaming this is what the active/inactive LRU does too.
 *
 * Not modelled: the active/inactive split (a page read twice is not
 * protected), anonymous memory and swap, mapped pages, buffer heads and
 * metadata (inodes, indirect blocks, the ext3 journal), per-zone limits.
 */
import { readFileSync } from "node:fs";
import { boardPresets, DATA_DIR, type Sourced } from "../hw/board.js";

/** data/block/linux-block.json */
export interface BlockData {
  id: string;
  name: string;
  provenance: string;
  dirty_background_ratio: Sourced<number>;
  dirty_ratio: Sourced<number>;
  ratelimit_pages_max: Sourced<number>;
  ratelimit_pages_exceeded: Sourced<number>;
  max_writeback_pages: Sourced<number>;
  congestion_wait_ms: Sourced<number>;
  nr_requests: Sourced<number>;
  congestion_on_fraction: Sourced<number>;
  readahead_max_kb: Sourced<number>;
  task_dirty_share: Sourced<number>;
  memory_reserved_mb: Sourced<number>;
  read_page_us: Sourced<number>;
  write_page_us: Sourced<number>;
  new_page_us: Sourced<number>;
  readahead_page_us: Sourced<number>;
  writeback_page_us: Sourced<number>;
  request_us: Sourced<number>;
  truncate_page_us: Sourced<number>;
  async_fifo_expire_ms: Sourced<number>;
  default_machine_memory_mb: Sourced<number>;
}

let blockData: BlockData | null = null;

/** Loads data/block/linux-block.json (cached). */
export function linuxBlockData(): BlockData {
  if (!blockData) blockData = JSON.parse(readFileSync(`${DATA_DIR}block/linux-block.json`, "utf8")) as BlockData;
  return blockData;
}

/**
 * Memory of the machine of board `preset`, MB: the preset's optional
 * `memory_mb` field ({value, provenance}), else data/block's
 * default_machine_memory_mb.
 */
export function boardMemoryMb(preset: string): number {
  const p = boardPresets().get(preset) as unknown as { memory_mb?: Sourced<number> } | undefined;
  return p?.memory_mb?.value ?? linuxBlockData().default_machine_memory_mb.value;
}

/** Page flags (one byte per page of a file). */
export const PG_CACHED = 1; // in the page cache
export const PG_UPTODATE = 2; // holds the file's data
export const PG_DIRTY = 4; // modified, not yet written back
export const PG_WRITEBACK = 8; // under writeback (a write request is in flight)
export const PG_READING = 16; // locked for a read request in flight

const PINNED = PG_DIRTY | PG_WRITEBACK | PG_READING;

/** The per-file page state (struct address_space) and the file's readahead state (struct file_ra_state). */
export class FilePages {
  readonly flags: Uint8Array;
  /** Dirty and writeback pages of this file. */
  nrDirty = 0;
  nrWriteback = 0;
  /** mapping->writeback_index: where the next cyclic writeback pass starts. */
  wbIndex = 0;
  // file_ra_state (one reader stream per file)
  raStart = -1;
  raSize = 0;
  raAsync = 0;
  /** The page carrying PG_readahead (start of the asynchronous part of the window), -1: none. */
  raMark = -1;
  /** The page after the last one read (prev_pos). */
  raPrev = -1;
  constructor(readonly id: number, readonly npages: number) {
    this.flags = new Uint8Array(npages);
  }
}

/** The page cache of one kernel. */
export class PageCache {
  /** Pages the cache may hold (determine_dirtyable_memory). */
  readonly capacity: number;
  nrCached = 0;
  nrDirty = 0;
  nrWriteback = 0;
  readonly files: FilePages[] = [];
  // reclaim FIFO of cached pages (file id, page), a ring
  private ringFile: Int32Array;
  private ringPage: Int32Array;
  private head = 0;
  private len = 0;
  // statistics
  evictions = 0;
  hits = 0;
  misses = 0;

  constructor(memoryMb: number, readonly data: BlockData = linuxBlockData()) {
    const mb = Math.max(8, memoryMb - data.memory_reserved_mb.value);
    this.capacity = Math.floor(mb * 256);
    this.ringFile = new Int32Array(1024);
    this.ringPage = new Int32Array(1024);
  }

  /** Registers a file of `npages` pages; returns its page state. */
  addFile(npages: number): FilePages {
    const f = new FilePages(this.files.length, npages);
    this.files.push(f);
    return f;
  }

  /**
   * Makes page p of file f cached (not yet up to date), reclaiming the
   * oldest clean page when the cache is full. Returns the number of pages
   * reclaimed (0 or 1).
   */
  insert(f: FilePages, p: number): number {
    if (f.flags[p] & PG_CACHED) return 0;
    let freed = 0;
    if (this.nrCached >= this.capacity) freed = this.evictOne();
    f.flags[p] = PG_CACHED;
    this.nrCached++;
    this.push(f.id, p);
    return freed;
  }

  /** Marks page p of f dirty (it must be cached). Returns true if it was clean. */
  setDirty(f: FilePages, p: number): boolean {
    const fl = f.flags[p];
    if (fl & PG_DIRTY) return false;
    f.flags[p] = fl | PG_DIRTY | PG_UPTODATE;
    f.nrDirty++;
    this.nrDirty++;
    return true;
  }

  /** clear_page_dirty_for_io + set_page_writeback of page p of f. */
  startWriteback(f: FilePages, p: number): void {
    const fl = f.flags[p];
    f.flags[p] = (fl & ~PG_DIRTY) | PG_WRITEBACK;
    f.nrDirty--;
    this.nrDirty--;
    f.nrWriteback++;
    this.nrWriteback++;
  }

  /** end_page_writeback of page p of f. */
  endWriteback(f: FilePages, p: number): void {
    const fl = f.flags[p];
    if (!(fl & PG_WRITEBACK)) return;
    f.flags[p] = fl & ~PG_WRITEBACK;
    f.nrWriteback--;
    this.nrWriteback--;
  }

  /** A read request for page p of f completed: SetPageUptodate, unlock_page. */
  endRead(f: FilePages, p: number): void {
    const fl = f.flags[p];
    if (!(fl & PG_READING)) return;
    f.flags[p] = (fl & ~PG_READING) | PG_UPTODATE;
  }

  /** cancel_dirty_page (truncation): page p of f is no longer dirty. */
  cancelDirty(f: FilePages, p: number): void {
    const fl = f.flags[p];
    if (!(fl & PG_DIRTY)) return;
    f.flags[p] = fl & ~PG_DIRTY;
    f.nrDirty--;
    this.nrDirty--;
  }

  /** truncate_inode_pages: drops clean idle page p of f from the cache. Returns true if it was cached. */
  drop(f: FilePages, p: number): boolean {
    const fl = f.flags[p];
    if (!(fl & PG_CACHED) || (fl & PINNED)) return false;
    f.flags[p] = 0;
    this.nrCached--;
    return true;
  }

  /** Reclaims the oldest cached page that is clean and idle; returns 1, or 0 if every page is pinned. */
  private evictOne(): number {
    for (let n = this.len; n > 0; n--) {
      const fid = this.ringFile[this.head];
      const p = this.ringPage[this.head];
      this.head = (this.head + 1) % this.ringFile.length;
      this.len--;
      const f = this.files[fid];
      if (!(f.flags[p] & PG_CACHED)) continue; // dropped by truncation since it was queued
      if (f.flags[p] & PINNED) {
        this.push(fid, p); // back on the list, as shrink_page_list does with a dirty page
        continue;
      }
      f.flags[p] = 0;
      this.nrCached--;
      this.evictions++;
      return 1;
    }
    return 0;
  }

  private push(fid: number, p: number): void {
    if (this.len === this.ringFile.length) this.grow();
    const i = (this.head + this.len) % this.ringFile.length;
    this.ringFile[i] = fid;
    this.ringPage[i] = p;
    this.len++;
  }

  private grow(): void {
    const n = this.ringFile.length * 2;
    const nf = new Int32Array(n), np = new Int32Array(n);
    for (let k = 0; k < this.len; k++) {
      const i = (this.head + k) % this.ringFile.length;
      nf[k] = this.ringFile[i];
      np[k] = this.ringPage[i];
    }
    this.ringFile = nf;
    this.ringPage = np;
    this.head = 0;
  }

  /**
   * get_dirty_limits: [background_thresh, dirty_thresh] in pages, from the
   * dirtyable memory (the cache's capacity); an RT task gets a quarter more
   * (PF_LESS_THROTTLE || rt_task).
   */
  dirtyLimits(rtTask: boolean): [number, number] {
    const d = this.data;
    let dirty = Math.floor(d.dirty_ratio.value * this.capacity / 100);
    let bg = Math.floor(d.dirty_background_ratio.value * this.capacity / 100);
    if (bg >= dirty) bg = Math.floor(dirty / 2);
    if (rtTask) { bg += Math.floor(bg / 4); dirty += Math.floor(dirty / 4); }
    return [bg, dirty];
  }
}
