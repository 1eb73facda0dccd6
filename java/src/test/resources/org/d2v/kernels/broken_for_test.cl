/* Deliberately broken: OpenClRuntimeTest checks that the build error names the program and shows the log. */
KERNEL void broken(int n, GLOBAL float *x, int xo) {
    x[xo] = undeclared_symbol_for_test;
}
