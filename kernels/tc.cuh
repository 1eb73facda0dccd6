/*
 * tc.cuh — the tensor-core and asynchronous-copy primitives of the CUDA-only kernels (sm_80+):
 * cp.async (16 bytes, zero-filled when the source is out of range), ldmatrix (x4, plain and
 * transposed) and mma.sync m16n8k16 bf16 -> fp32, plus the XOR swizzle of shared-memory tiles.
 *
 * Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16"; g = lane / 4, t = lane % 4):
 *   A 16x16 (row): a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..], a[2] = A[g][2t+8..], a[3] = A[g+8][2t+8..]
 *   B 16x8 (col):  b[0] = B[2t..2t+1][g], b[1] = B[2t+8..2t+9][g]
 *   C 16x8:        c[0..1] = C[g][2t..2t+1], c[2..3] = C[g+8][2t..2t+1]
 * ldmatrix.x4: lanes 8j..8j+7 give the row addresses of 8x8 matrix j; register j of lane l gets
 * row l/4, columns 2(l%4)..+1 of matrix j (.trans: rows 2(l%4)..+1 of column l/4).
 *
 * Tiles in shared memory are rows of 16-byte chunks. A warp's ldmatrix reads one chunk from each of
 * 8 consecutive rows; with rows of 128 bytes or more those chunks would all sit in the same 4 banks
 * (8-way conflict), with 64-byte rows 4-way. The swizzle XORs the chunk index with the row (rows of
 * >= 8 chunks: row mod 8; rows of 4 chunks: (row / 2) mod 4), which spreads every 8 consecutive rows
 * over all 32 banks for ldmatrix and for the 16-byte cp.async stores alike.
 *
 * When D2V_EMULATION is defined (the host emulator of the tests), it supplies these primitives.
 */
#ifndef D2V_TC_CUH
#define D2V_TC_CUH

#include "bf16.cuh"

/* The physical chunk of logical chunk c in row r of a tile with CHUNKS 16-byte chunks per row. */
template <int CHUNKS>
static __host__ __device__ __forceinline__ int swz(int r, int c) {
    static_assert(CHUNKS == 4 || CHUNKS % 8 == 0, "tile rows of 4 or a multiple of 8 chunks");
    return CHUNKS == 4 ? (c ^ ((r >> 1) & 3)) : (c ^ (r & 7));
}

/* Element offset of (row r, column col) in a swizzled tile of bf16 rows COLS wide (col % 8 == 0). */
template <int COLS>
static __host__ __device__ __forceinline__ int swz_at(int r, int col) {
    return r * COLS + swz<COLS / 8>(r, col >> 3) * 8 + (col & 7);
}

#ifndef D2V_EMULATION

static __device__ __forceinline__ unsigned int smem_u32(const void *p) {
    return (unsigned int) __cvta_generic_to_shared(p);
}

/* 16 bytes global -> shared, bypassing L1; zero-filled (and src not read) when !valid. */
static __device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :: "r"(smem_u32(smem)), "l"(gmem), "r"(valid ? 16 : 0) : "memory");
}

static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/* Waits until at most N of this thread's committed groups are still in flight. */
template <int N>
static __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" :: "n"(N) : "memory"); }

static __device__ __forceinline__ void ldmatrix_x4(unsigned int (&r)[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_u32(smem)));
}

static __device__ __forceinline__ void ldmatrix_x4_trans(unsigned int (&r)[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_u32(smem)));
}

/* d += a·b, bf16 operands, fp32 accumulators. */
static __device__ __forceinline__ void mma_bf16(float (&d)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

#endif /* !D2V_EMULATION */

/* ---------------------------------------------------------------- fragment helpers */

/* Lane address of ldmatrix.x4 loading the A fragment (16 rows x 16 k) at (r0, k0) from a tile
   stored rows = m, columns = k (no transpose). */
template <int COLS>
static __device__ __forceinline__ int frag_a_rowmajor(int lane, int r0, int k0) {
    return swz_at<COLS>(r0 + (lane & 7) + ((lane >> 3) & 1) * 8, k0 + (lane >> 4) * 8);
}

/* ... from a tile stored rows = k, columns = m (use ldmatrix .trans). */
template <int COLS>
static __device__ __forceinline__ int frag_a_colmajor(int lane, int m0, int k0) {
    return swz_at<COLS>(k0 + (lane >> 4) * 8 + (lane & 7), m0 + ((lane >> 3) & 1) * 8);
}

/* Lane address of ldmatrix.x4 loading the B fragments of two n8 tiles (n0..n0+15) x 16 k at k0
   from a tile stored rows = n, columns = k (no transpose): r[0], r[1] = tile n0, r[2], r[3] = n0+8. */
template <int COLS>
static __device__ __forceinline__ int frag_b_nmajor(int lane, int n0, int k0) {
    return swz_at<COLS>(n0 + ((lane >> 4) & 1) * 8 + (lane & 7), k0 + ((lane >> 3) & 1) * 8);
}

/* ... from a tile stored rows = k, columns = n (use ldmatrix .trans). */
template <int COLS>
static __device__ __forceinline__ int frag_b_kmajor(int lane, int n0, int k0) {
    return swz_at<COLS>(k0 + ((lane >> 3) & 1) * 8 + (lane & 7), n0 + ((lane >> 4) & 1) * 8);
}

/* The A fragment of a 16x16 block held as two C tiles (16x8 each) of fp32 accumulators, rounded
   to bf16: the FlashAttention move from S = Q·Kᵀ to P as the A operand of P·V. */
static __device__ __forceinline__ void c_to_a(unsigned int (&a)[4], const float (&c0)[4], const float (&c1)[4]) {
    a[0] = pack_bf16x2(c0[0], c0[1]);
    a[1] = pack_bf16x2(c0[2], c0[3]);
    a[2] = pack_bf16x2(c1[0], c1[1]);
    a[3] = pack_bf16x2(c1[2], c1[3]);
}

#endif
