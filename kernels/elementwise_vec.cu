/*
 * 16-byte vectorised elementwise kernels (CUDA only; the portable twins are in elementwise.cl,
 * same argument lists, same semantics). Suffix _f32: every tensor float; _bf16: every tensor bf16
 * (unsigned short), math in fp32, results rounded to nearest even once.
 *
 * Each thread takes units of 8 consecutive elements (one 16-byte access per bf16 tensor, two per
 * float tensor) in a grid-stride loop, so any grid is correct; a grid of about 8 blocks of 256 per
 * SM (1056 on an H200) keeps every SM's memory pipeline full. Views that are not 16-byte aligned,
 * and the last n mod 8 elements, take a scalar path: no precondition. block (256).
 */
#include "bf16.cuh"
#include "warp.cuh"

/* Whether every given pointer (with its element offset applied) is 16-byte aligned. */
template <class T>
static __device__ __forceinline__ bool all_aligned(const T *a, const T *b = 0, const T *c = 0) {
    return aligned16(a) && (b == 0 || aligned16(b)) && (c == 0 || aligned16(c));
}

/* Walks n elements: f8(i) on units of 8 starting at element i when `vec`, f1(i) on single elements
   otherwise and on the tail. */
template <class F8, class F1>
static __device__ __forceinline__ void for_units(int n, bool vec, F8 f8, F1 f1) {
    const long long units = vec ? n / 8 : 0;
    for (long long u = grid_first(); u < units; u += grid_step()) f8(u * 8);
    for (long long i = units * 8 + grid_first(); i < n; i += grid_step()) f1(i);
}

template <class T>
static __device__ __forceinline__ void add_vec(int n, const T *a, const T *b, T *out) {
    for_units(n, all_aligned(a, b, (const T *) out),
              [&](long long i) {
                  float x[8], y[8];
                  load8(a + i, x);
                  load8(b + i, y);
#pragma unroll
                  for (int k = 0; k < 8; k++) x[k] += y[k];
                  store8(out + i, x);
              },
              [&](long long i) { store1(out + i, load1(a + i) + load1(b + i)); });
}

/* y = alpha·x + beta·y; beta = 0 never reads y (it may hold NaN). */
template <class T>
static __device__ __forceinline__ void axpby_vec(int n, float alpha, const T *x, float beta, T *y) {
    for_units(n, all_aligned(x, (const T *) y),
              [&](long long i) {
                  float a[8], b[8];
                  load8(x + i, a);
                  if (beta != 0.0f) load8((const T *) y + i, b);
#pragma unroll
                  for (int k = 0; k < 8; k++) a[k] = beta != 0.0f ? alpha * a[k] + beta * b[k] : alpha * a[k];
                  store8(y + i, a);
              },
              [&](long long i) {
                  float r = alpha * load1(x + i);
                  if (beta != 0.0f) r += beta * load1((const T *) y + i);
                  store1(y + i, r);
              });
}

template <class T>
static __device__ __forceinline__ void gelu_forward_vec(int n, const T *x, T *y) {
    for_units(n, all_aligned(x, (const T *) y),
              [&](long long i) {
                  float a[8];
                  load8(x + i, a);
#pragma unroll
                  for (int k = 0; k < 8; k++) a[k] = d2v_gelu(a[k]);
                  store8(y + i, a);
              },
              [&](long long i) { store1(y + i, d2v_gelu(load1(x + i))); });
}

template <class T>
static __device__ __forceinline__ void gelu_backward_vec(int n, const T *x, const T *dy, T *dx, int accumulate) {
    for_units(n, all_aligned(x, dy, (const T *) dx),
              [&](long long i) {
                  float a[8], g[8], old[8];
                  load8(x + i, a);
                  load8(dy + i, g);
                  if (accumulate) load8((const T *) dx + i, old);
#pragma unroll
                  for (int k = 0; k < 8; k++) {
                      const float r = g[k] * d2v_gelu_grad(a[k]);
                      a[k] = accumulate ? old[k] + r : r;
                  }
                  store8(dx + i, a);
              },
              [&](long long i) {
                  const float r = load1(dy + i) * d2v_gelu_grad(load1(x + i));
                  store1(dx + i, accumulate ? load1((const T *) dx + i) + r : r);
              });
}

/* ---------------------------------------------------------------- entry points */

KERNEL void add_vec_f32(int n, GLOBAL const float *a, int ao, GLOBAL const float *b, int bo, GLOBAL float *out, int oo) {
    add_vec(n, a + ao, b + bo, out + oo);
}

KERNEL void add_vec_bf16(int n, GLOBAL const unsigned short *a, int ao, GLOBAL const unsigned short *b, int bo,
                         GLOBAL unsigned short *out, int oo) {
    add_vec(n, a + ao, b + bo, out + oo);
}

KERNEL void axpby_vec_f32(int n, float alpha, GLOBAL const float *x, int xo, float beta, GLOBAL float *y, int yo) {
    axpby_vec(n, alpha, x + xo, beta, y + yo);
}

KERNEL void axpby_vec_bf16(int n, float alpha, GLOBAL const unsigned short *x, int xo, float beta,
                           GLOBAL unsigned short *y, int yo) {
    axpby_vec(n, alpha, x + xo, beta, y + yo);
}

KERNEL void gelu_forward_vec_f32(int n, GLOBAL const float *x, int xo, GLOBAL float *y, int yo) {
    gelu_forward_vec(n, x + xo, y + yo);
}

KERNEL void gelu_forward_vec_bf16(int n, GLOBAL const unsigned short *x, int xo, GLOBAL unsigned short *y, int yo) {
    gelu_forward_vec(n, x + xo, y + yo);
}

KERNEL void gelu_backward_vec_f32(int n, GLOBAL const float *x, int xo, GLOBAL const float *dy, int dyo,
                                  GLOBAL float *dx, int dxo, int accumulate) {
    gelu_backward_vec(n, x + xo, dy + dyo, dx + dxo, accumulate);
}

KERNEL void gelu_backward_vec_bf16(int n, GLOBAL const unsigned short *x, int xo, GLOBAL const unsigned short *dy, int dyo,
                                   GLOBAL unsigned short *dx, int dxo, int accumulate) {
    gelu_backward_vec(n, x + xo, dy + dyo, dx + dxo, accumulate);
}
