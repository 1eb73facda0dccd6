/* The CPU's fp32 FMA peak per core and for N threads: independent chains of vector FMAs (GCC vector
 * extensions, compiled with -O3 -march=native so they become the widest FMA the CPU has), enough
 * chains to hide the FMA latency. Prints GFLOP/s (2 flops per FMA lane) per wall second and per
 * second of CPU time a thread got (per core): on a shared machine the second is the core's own limit.
 *   gcc -O3 -march=native -pthread fma_peak.c -o fma_peak && ./fma_peak [threads] [seconds]   */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vec __attribute__((vector_size(4 * LANES)));
#define CHAINS 12

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

typedef struct { double seconds; double flops, cpu_flops; float sink; } job;

static void *run(void *arg) {
    job *j = arg;
    vec acc[CHAINS], a, b;
    for (int l = 0; l < LANES; l++) { a[l] = 0.999999f; b[l] = 1e-7f; }
    for (int c = 0; c < CHAINS; c++) for (int l = 0; l < LANES; l++) acc[c][l] = (float) c;
    long iters = 0;
    double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), t;
    do {
        for (int r = 0; r < 1000; r++)
            for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * a + b; /* contracted to one FMA */
        iters += 1000;
        t = now();
    } while (t - t0 < j->seconds);
    float s = 0;
    for (int c = 0; c < CHAINS; c++) for (int l = 0; l < LANES; l++) s += acc[c][l];
    j->sink = s;
    j->flops = 2.0 * LANES * CHAINS * (double) iters / (t - t0);
    j->cpu_flops = 2.0 * LANES * CHAINS * (double) iters / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    pthread_t th[64];
    job jobs[64];
    if (threads < 1 || threads > 64) return 2;
    for (int i = 0; i < threads; i++) { jobs[i].seconds = seconds; pthread_create(&th[i], NULL, run, &jobs[i]); }
    double total = 0, cpu = 0, sink = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += jobs[i].flops;
        cpu += jobs[i].cpu_flops;
        sink += jobs[i].sink;
    }
    printf("{\"threads\": %d, \"lanes\": %d, \"gflops_wall\": %.2f, \"gflops_per_cpu_second\": %.2f, \"sink\": %g}\n",
           threads, LANES, total / 1e9, cpu / threads / 1e9, sink);
    return 0;
}
