/*
 * The masked regression loss, 16-byte vectorised (CUDA only; the portable twin is loss.cl's
 * masked_regression, same arguments and semantics, see LossDesc): pred [rows, tokens, dim],
 * target [rows/clones, tokens, dim], mask [rows, tokens] (int, != 0: counts). partials[block] gets
 * Σ_masked (pred − target)² of this block's slots; dpred = gradCoef·(pred − target) at masked slots
 * and 0 elsewhere (hasDpred). Suffix _f32: pred, target, dpred float; _bf16: all three bf16.
 *
 * One warp per (row, token) slot, grid-stride over slots: the mask is read once per slot, and an
 * unmasked slot reads neither pred nor target (it only writes its zeros). The block's sum is a
 * fixed-order tree, so the partials (and finish_sum over them) are deterministic for a given grid.
 * block 256; grid = the number of partials (the portable launch uses 256; more fill an H200
 * better: e.g. 1056, with finish_sum over that count). dim a multiple of 8 and 16-byte aligned
 * views take the vector path; anything else the scalar one (same result).
 */
#include "bf16.cuh"
#include "warp.cuh"

template <class T>
static __device__ __forceinline__ void masked_regression_vec(int n, int tokens, int dim, int clones, const T *pred,
                                                             const T *target, const int *mask, T *dpred, int hasDpred,
                                                             float gradCoef, float *partials) {
    __shared__ float scratch[8];
    const int lane = threadIdx.x & 31;
    const long long warp0 = ((long long) blockIdx.x * blockDim.x + threadIdx.x) >> 5, warps = grid_step() >> 5;
    const long long slots = dim > 0 ? (long long) n / dim : 0;
    const bool vec = dim % 8 == 0 && aligned16(pred) && aligned16(target) && (!hasDpred || aligned16(dpred));
    const int units = dim / 8;
    float s = 0.0f;
    for (long long slot = warp0; slot < slots; slot += warps) {
        const long long r = slot / tokens, tok = slot % tokens;
        const bool masked = mask[slot] != 0;
        const T *p = pred + slot * dim;
        const T *tg = target + ((r / clones) * tokens + tok) * dim;
        T *d = hasDpred ? dpred + slot * dim : 0;
        if (vec) {
            for (int u = lane; u < units; u += 32) {
                float a[8], b[8];
                if (masked) {
                    load8(p + u * 8, a);
                    load8(tg + u * 8, b);
#pragma unroll
                    for (int k = 0; k < 8; k++) {
                        const float diff = a[k] - b[k];
                        s += diff * diff;
                        a[k] = gradCoef * diff;
                    }
                } else {
#pragma unroll
                    for (int k = 0; k < 8; k++) a[k] = 0.0f;
                }
                if (hasDpred) store8(d + u * 8, a);
            }
        } else {
            for (int j = lane; j < dim; j += 32) {
                float v = 0.0f;
                if (masked) {
                    const float diff = load1(p + j) - load1(tg + j);
                    s += diff * diff;
                    v = gradCoef * diff;
                }
                if (hasDpred) store1(d + j, v);
            }
        }
    }
    const float total = block_sum<8>(s, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

KERNEL void masked_regression_vec_f32(int n, int tokens, int dim, int clones, GLOBAL const float *pred, int po,
                                      GLOBAL const float *target, int to, GLOBAL const int *mask, int mo,
                                      GLOBAL float *dpred, int dpo, int hasDpred, float gradCoef,
                                      GLOBAL float *partials, int pao) {
    masked_regression_vec(n, tokens, dim, clones, pred + po, target + to, mask + mo, hasDpred ? dpred + dpo : dpred,
                          hasDpred, gradCoef, partials + pao);
}

KERNEL void masked_regression_vec_bf16(int n, int tokens, int dim, int clones, GLOBAL const unsigned short *pred, int po,
                                       GLOBAL const unsigned short *target, int to, GLOBAL const int *mask, int mo,
                                       GLOBAL unsigned short *dpred, int dpo, int hasDpred, float gradCoef,
                                       GLOBAL float *partials, int pao) {
    masked_regression_vec(n, tokens, dim, clones, pred + po, target + to, mask + mo, hasDpred ? dpred + dpo : dpred,
                          hasDpred, gradCoef, partials + pao);
}
