// Persistent work buffers shared by the kernels (not a kernel): slot i is a block of linear memory
// that is grown on demand (never shrunk) and reused across calls, so the hot loops never allocate.
// Growing a slot may grow memory; the JavaScript adapter rebuilds its typed-array views after every call.

const SLOTS: i32 = 16;
const table = memory.data(SLOTS * 8); // per slot: pointer (u32), capacity in bytes (u32)

// Slot names. A kernel may use a slot only while no kernel it calls uses the same one.
export const SLOT_PACK_A: i32 = 0;
export const SLOT_PACK_B: i32 = 1;
export const SLOT_TILE: i32 = 2;
export const SLOT_F64_A: i32 = 3;
export const SLOT_F64_B: i32 = 4;
export const SLOT_F64_C: i32 = 5;
export const SLOT_F64_D: i32 = 6;
export const SLOT_F32_A: i32 = 7;
export const SLOT_F32_B: i32 = 8;
export const SLOT_F32_C: i32 = 9;
export const SLOT_F32_D: i32 = 10;
export const SLOT_F32_E: i32 = 11;
export const SLOT_MISC: i32 = 12;
export const SLOT_SVD_A: i32 = 13;
export const SLOT_SVD_B: i32 = 14;
export const SLOT_SVD_C: i32 = 15;

/** A pointer to at least `bytes` bytes (16-byte aligned) owned by `slot`; contents are undefined. */
export function work(slot: i32, bytes: usize): usize {
  const entry = table + (<usize>slot << 3);
  let ptr = load<u32>(entry);
  const cap = load<u32>(entry, 4);
  if (<usize>cap < bytes) {
    if (ptr != 0) {
      // Forget the old block first, so that a failed allocation (a trap) leaves the slot empty.
      store<u32>(entry, 0);
      store<u32>(entry, 0, 4);
      heap.free(<usize>ptr);
    }
    const grown = max<usize>(bytes, <usize>cap + (<usize>cap >> 1));
    ptr = <u32>heap.alloc(grown);
    store<u32>(entry, ptr);
    store<u32>(entry, <u32>grown, 4);
  }
  return <usize>ptr;
}

/** Same as `work`, zero-filled. */
export function workZero(slot: i32, bytes: usize): usize {
  const ptr = work(slot, bytes);
  memory.fill(ptr, 0, bytes);
  return ptr;
}
