/* A tiny persistent worker pool for libd2v_cpu's host kernels. A native kernel runs on one of
 * PoCL's worker threads while the in-order queue keeps the others idle; the pool lends those
 * cores to the kernel: d2v_pool_run(parts, fn, ctx) runs fn(ctx, part) for every part on up to
 * d2v_pool_threads() threads, the calling thread among them, and returns when all are done.
 * Workers park on a condition variable when idle (after a short bounded spin).
 *
 * Determinism: callers split their work by d2v_pool_parts(), which depends only on the shape and
 * the configured thread count, never on which thread runs which part or how many are free, so a
 * given shape and thread count always computes the same sums in the same order. When the pool is
 * busy (another native kernel is using it), the parts run one after the other on the caller. */
#ifndef D2V_HOST_POOL_H
#define D2V_HOST_POOL_H
#include <stdint.h>

typedef void (*d2v_pool_fn)(void *ctx, int part);

/* Threads the host kernels use (1: no workers); changing it parks and restarts the workers. */
void d2v_pool_set_threads(int threads);
int d2v_pool_threads(void);

/* How many runs were handed to the workers so far (split in parts, pool free). */
int64_t d2v_pool_jobs(void);

/* Work (in a kernel's own units: FLOPs, elements) below which a part is not worth a wake-up; the
 * scale multiplies every kernel's threshold (1 by default; 0 splits whatever can be split, which
 * the tests use to reach the threaded paths at small sizes). */
void d2v_pool_set_split_scale(double scale);

/* How long an idle worker (and a caller waiting for one) spins before it sleeps, in ns. */
void d2v_pool_set_spin_ns(int64_t ns);
int64_t d2v_pool_spin_ns(void);

/* How many parts to split work into: min(threads, units, work / (min_work · scale)), at least 1;
 * units is how many indivisible pieces there are (rows, groups, heads). */
int d2v_pool_parts(double work, double min_work, int64_t units);

/* Runs fn(ctx, 0..parts-1), the caller taking parts itself; returns when every part is done. */
void d2v_pool_run(int parts, d2v_pool_fn fn, void *ctx);

/* [*lo, *hi) of part p when n units are cut into parts pieces of multiples of align units
 * (the last piece takes the rest); empty pieces are allowed. */
void d2v_pool_range(int64_t n, int parts, int p, int64_t align, int64_t *lo, int64_t *hi);

#endif
