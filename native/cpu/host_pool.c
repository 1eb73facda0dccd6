/* The worker pool of host_pool.h. One job at a time: the caller publishes fn and ctx, then a
 * ticket word (generation << 32 | parts << 16 | next part) that workers and caller advance with a
 * compare-and-swap to claim parts. A worker reads fn and ctx only after claiming a part of the
 * current generation, and the caller does not return (nor publish the next job) before every
 * claimed part is done, so a worker that wakes late finds a newer generation or no part left and
 * never touches a finished job. Idle workers spin for at most spin_ns, then wait on a condition
 * variable: on a 2-core machine PoCL's own workers need the core between host kernels. */
#include "host_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 64
#define MAX_PARTS 0xffff

static struct {
    pthread_mutex_t run;          /* held by the caller of the job in flight */
    pthread_mutex_t lock;         /* guards the sleeps below */
    pthread_cond_t wake, done;
    _Atomic uint64_t ticket;      /* generation << 32 | parts << 16 | next */
    _Atomic uint32_t generation;  /* what parked workers wait to change */
    _Atomic int remaining;        /* parts of the current job not finished */
    _Atomic int stop;
    d2v_pool_fn fn;
    void *ctx;
    _Atomic int threads;          /* configured, caller included (read by callers without a lock) */
    int started;                  /* workers running */
    pthread_t workers[MAX_THREADS];
    _Atomic double split_scale;
    _Atomic int64_t spin_ns;
    _Atomic int64_t jobs;         /* runs handed to the pool (for the tests: the threaded path ran) */
} pool = {
    .run = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .threads = 1,
    .split_scale = 1.0,
    .spin_ns = 20000,
};

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void relax(void) { __builtin_ia32_pause(); }

/* Claims and runs parts of generation gen until none is left or the job is another. */
static void work_on(uint32_t gen) {
    for (;;) {
        uint64_t t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
        uint32_t parts = (uint32_t)(t >> 16) & MAX_PARTS, next = (uint32_t)t & MAX_PARTS;
        if ((uint32_t)(t >> 32) != gen || next >= parts) return;
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &t, t + 1, memory_order_acq_rel, memory_order_relaxed)) continue;
        pool.fn(pool.ctx, (int)next);
        if (atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

static void *worker(void *arg) {
    uint32_t seen = (uint32_t)(uintptr_t)arg;
    for (;;) {
        uint32_t gen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (gen == seen && pool.spin_ns > 0) {
            int64_t until = now_ns() + pool.spin_ns;
            for (int i = 0; gen == seen; i++) {
                relax();
                gen = atomic_load_explicit(&pool.generation, memory_order_acquire);
                if ((i & 63) == 63 && now_ns() > until) break;
            }
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool.lock);
            while ((gen = atomic_load(&pool.generation)) == seen && !atomic_load(&pool.stop)) pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        if (atomic_load(&pool.stop)) return NULL;
        seen = gen;
        work_on(gen);
    }
}

/* With pool.run held. */
static void stop_workers(void) {
    if (pool.started == 0) return;
    pthread_mutex_lock(&pool.lock);
    atomic_store(&pool.stop, 1);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.started; i++) pthread_join(pool.workers[i], NULL);
    pool.started = 0;
    atomic_store(&pool.stop, 0);
}

/* With pool.run held. Workers block every signal: they are not JVM threads, and a signal meant
 * for the process must not land on them. A worker that cannot be created is simply not there. */
static void start_workers(void) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    uint32_t gen = atomic_load(&pool.generation);
    while (pool.started < pool.threads - 1) {
        if (pthread_create(&pool.workers[pool.started], NULL, worker, (void *)(uintptr_t)gen) != 0) break;
        pool.started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void d2v_pool_set_threads(int threads) {
    threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    pthread_mutex_lock(&pool.run);
    if (threads != pool.threads) {
        stop_workers();
        pool.threads = threads;
    }
    pthread_mutex_unlock(&pool.run);
}

int d2v_pool_threads(void) { return pool.threads; }

int64_t d2v_pool_jobs(void) { return atomic_load(&pool.jobs); }

void d2v_pool_set_split_scale(double scale) { pool.split_scale = scale < 0.0 ? 0.0 : scale; }

void d2v_pool_set_spin_ns(int64_t ns) { pool.spin_ns = ns < 0 ? 0 : ns; }

int64_t d2v_pool_spin_ns(void) { return pool.spin_ns; }

int d2v_pool_parts(double work, double min_work, int64_t units) {
    int64_t parts = pool.threads;
    if (units < parts) parts = units;
    double threshold = min_work * pool.split_scale;
    if (threshold > 0.0 && work / threshold < (double)parts) parts = (int64_t)(work / threshold);
    return parts < 1 ? 1 : (int)parts;
}

void d2v_pool_range(int64_t n, int parts, int p, int64_t align, int64_t *lo, int64_t *hi) {
    int64_t blocks = (n + align - 1) / align, per = blocks / parts, extra = blocks % parts;
    int64_t first = p * per + (p < extra ? p : extra), count = per + (p < extra ? 1 : 0);
    *lo = first * align < n ? first * align : n;
    *hi = (first + count) * align < n ? (first + count) * align : n;
}

void d2v_pool_run(int parts, d2v_pool_fn fn, void *ctx) {
    if (parts > MAX_PARTS) abort(); /* callers cut at most a few parts per thread */
    if (parts <= 1 || pool.threads <= 1 || pthread_mutex_trylock(&pool.run) != 0) {
        for (int p = 0; p < parts; p++) fn(ctx, p); /* the same parts, in order, on this thread */
        return;
    }
    if (pool.started < pool.threads - 1) start_workers();
    atomic_fetch_add(&pool.jobs, 1);
    pool.fn = fn;
    pool.ctx = ctx;
    atomic_store_explicit(&pool.remaining, parts, memory_order_relaxed);
    uint32_t gen = atomic_load(&pool.generation) + 1;
    atomic_store_explicit(&pool.ticket, (uint64_t)gen << 32 | (uint64_t)parts << 16, memory_order_release);
    pthread_mutex_lock(&pool.lock);
    atomic_store_explicit(&pool.generation, gen, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    work_on(gen);
    if (atomic_load_explicit(&pool.remaining, memory_order_acquire) != 0) {
        int64_t until = now_ns() + pool.spin_ns;
        for (int i = 0; atomic_load_explicit(&pool.remaining, memory_order_acquire) != 0; i++) {
            relax();
            if ((i & 63) == 63 && now_ns() > until) break;
        }
        pthread_mutex_lock(&pool.lock);
        while (atomic_load_explicit(&pool.remaining, memory_order_acquire) != 0) pthread_cond_wait(&pool.done, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.run);
}
