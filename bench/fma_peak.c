/* fma_peak.c: one core's peak of fused multiply-adds, in GFLOP/s: 16
 * independent chains of acc = acc * a + b in the widest vectors the CPU runs
 * (AVX-512, else AVX2 + FMA), so no chain waits on another; the best of five
 * runs of about 0.2 s each. bench/bench_gpt.py measures each model's GFLOP/s
 * against it. Built with -ffp-contract=fast, so each line is one FMA.
 *
 *   fma_peak            prints "<GFLOP/s> <instruction set>" */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>

#define CHAINS 16

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs `iters` rounds of CHAINS vector FMAs of LANES floats; returns the
 * seconds taken, and folds the result into *sink so the loop stays. */
#define PEAK(name, LANES, TARGET)                                                          \
    __attribute__((target(TARGET))) static double name(long iters, float *sink)            \
    {                                                                                      \
        typedef float v __attribute__((vector_size(LANES * sizeof(float))));              \
        v acc[CHAINS], a = { 0 }, b = { 0 };                                               \
        a += 0.999999f;                                                                    \
        b += 1e-7f;                                                                        \
        for (int j = 0; j < CHAINS; j++)                                                   \
            acc[j] = a * (float)j;                                                         \
        double t0 = now();                                                                 \
        for (long i = 0; i < iters; i++)                                                   \
            _Pragma("GCC unroll 16") for (int j = 0; j < CHAINS; j++)                      \
                acc[j] = acc[j] * a + b;                                                   \
        double t = now() - t0;                                                             \
        for (int j = 0; j < CHAINS; j++)                                                   \
            for (int k = 0; k < LANES; k++)                                                \
                *sink += acc[j][k];                                                        \
        return t;                                                                          \
    }

PEAK(peak512, 16, "avx512f,fma")
PEAK(peak256, 8, "avx2,fma")

int main(void)
{
    __builtin_cpu_init();
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        fprintf(stderr, "fma_peak: this CPU has neither AVX-512 nor AVX2 with FMA\n");
        return 1;
    }
    int lanes = wide ? 16 : 8;
    double (*run)(long, float *) = wide ? peak512 : peak256;
    float sink = 0.0f;
    /* Size the runs to about 0.2 s from a short one. */
    long iters = 1L << 20;
    double t = run(iters, &sink);
    if (t > 0)
        iters = (long)((double)iters * 0.2 / t) + 1;
    double best = 0.0;
    for (int r = 0; r < 5; r++) {
        t = run(iters, &sink);
        double gflops = 2.0 * CHAINS * lanes * (double)iters / t * 1e-9;
        best = gflops > best ? gflops : best;
    }
    printf("%.1f %s%s\n", best, wide ? "avx512" : "avx2", sink == 12345.0f ? " " : "");
    return 0;
}
