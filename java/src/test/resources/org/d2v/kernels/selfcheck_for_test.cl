/* Fast variants of `add` for FastVariantsTest, which registers them on PoCL to test the run-time
   self-check: one right, two wrong in ways the check must catch. Four elements per work-item, as a
   vectorised kernel would take them. */

KERNEL void add4_for_test(int n, GLOBAL const float *a, int ao, GLOBAL const float *b, int bo, GLOBAL float *out, int oo) {
    int i = 4 * GID(0);
    for (int k = i; k < i + 4 && k < n; k++) out[oo + k] = a[ao + k] + b[bo + k];
}

/* Wrong at the edge: forgets the last n % 4 elements (the tail a vector kernel must take apart). */
KERNEL void add4_without_tail_for_test(int n, GLOBAL const float *a, int ao, GLOBAL const float *b, int bo,
                                       GLOBAL float *out, int oo) {
    int i = 4 * GID(0);
    if (i + 4 > n) return;
    for (int k = i; k < i + 4; k++) out[oo + k] = a[ao + k] + b[bo + k];
}

/* Wrong by a little: (a + b)·(1 + 1e-4), ten times fp32's tolerance. */
KERNEL void add4_scaled_for_test(int n, GLOBAL const float *a, int ao, GLOBAL const float *b, int bo, GLOBAL float *out, int oo) {
    int i = 4 * GID(0);
    for (int k = i; k < i + 4 && k < n; k++) out[oo + k] = (a[ao + k] + b[bo + k]) * 1.0001f;
}
