/* The memory floor of a streamed float32 map on this machine: a loop that
 * only reads x and writes out with non-temporal stores (what gelu_fast's
 * large float32 calls do, minus the arithmetic), on 1 thread and on 2, with
 * the 10M-element arrays of bench/targets.py.  gelu_fast's time at 10M on
 * two threads cannot go below this loop's, so its two-thread speed-up at 10M
 * is capped at (gelu_fast's time on one thread) / (this floor on two).
 * Interleaved rounds, medians, ns per element.
 *
 *     gcc -O2 -march=native -fopenmp bench/stream_floor.c -o /tmp/stream_floor && /tmp/stream_floor
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 10000000L
#define ROUNDS 25

/* whole 64-byte lines per store where the compiler may use AVX-512
 * (-march=native on such a machine), as gelu_fast's fast path stores */
static void stream_copy(const float *x, float *out, long n)
{
#ifdef __AVX512F__
    for (long i = 0; i < n; i += 16) _mm512_stream_ps(out + i, _mm512_load_ps(x + i));
#else
    for (long i = 0; i < n; i += 4) _mm_stream_ps(out + i, _mm_load_ps(x + i));
#endif
    _mm_sfence();
}

static int by_value(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

int main(void)
{
    float *x = aligned_alloc(64, N * sizeof(float)), *out = aligned_alloc(64, N * sizeof(float));
    for (long i = 0; i < N; i++) x[i] = (float)(i % 1000) / 1000.0f;
    memset(out, 0, N * sizeof(float));
    double seconds[2][ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int threads = 1; threads <= 2; threads++) {
            double start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
            {
                /* each thread a contiguous share of whole 64-byte lines */
                long share = (N / threads + 15) / 16 * 16, from = omp_get_thread_num() * share;
                long count = from + share > N ? N - from : share;
                if (count > 0) stream_copy(x + from, out + from, count);
            }
            seconds[threads - 1][round] = omp_get_wtime() - start;
        }
    }
    printf("non-temporal copy of %ld float32, medians of %d interleaved rounds\n", N, ROUNDS);
    for (int threads = 1; threads <= 2; threads++) {
        qsort(seconds[threads - 1], ROUNDS, sizeof(double), by_value);
        printf("  %d thread(s): %.4f ns/element\n", threads, seconds[threads - 1][ROUNDS / 2] / N * 1e9);
    }
    free(x);
    free(out);
    return 0;
}
