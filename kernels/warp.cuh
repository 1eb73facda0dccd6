/*
 * warp.cuh — warp and block reductions of the CUDA-only memory-bound kernels, in a fixed order
 * (butterfly over the lanes, then the warps in index order), so results are deterministic.
 */
#ifndef D2V_WARP_CUH
#define D2V_WARP_CUH

static __device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int w = 16; w > 0; w >>= 1) v += __shfl_xor_sync(0xffffffffu, v, w);
    return v;
}

/* Sum over a block of WARPS warps; every thread must call it; scratch holds WARPS floats. */
template <int WARPS>
static __device__ __forceinline__ float block_sum(float v, float *scratch) {
    v = warp_sum(v);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float total = 0.0f;
#pragma unroll
    for (int w = 0; w < WARPS; w++) total += scratch[w];
    __syncthreads(); /* scratch may be reused right away */
    return total;
}

/* The grid-stride walk of the memory-bound kernels: first index and step for this thread. */
static __device__ __forceinline__ long long grid_first() { return (long long) blockIdx.x * blockDim.x + threadIdx.x; }
static __device__ __forceinline__ long long grid_step() { return (long long) gridDim.x * blockDim.x; }

#endif
