// A native reference for the batched pass's BF16 register tile (docs/PERFORMANCE.md, "What bounds the batched
// pass"). Not part of the build: a probe that says what a C compiler makes of the same 4 rows x 4 tokens tile
// (VectorKernels.bf16Rows4Tokens4) on this processor, so that the Java kernel can be judged against the machine
// rather than against a guess.
//
//   gcc -O3 -march=native -o /tmp/tile tools/bf16_tile_probe.c && /tmp/tile
//
// It prints multiply-adds per second (one core) for
//   - the tile over 128 rows x 1,024 columns (256 KiB of BF16 weights, resident in L2) and 8 tokens,
//   - the same over 65,536 rows (128 MiB, streamed from memory), without and with a software prefetch of the row
//     block two blocks ahead (an instruction the Vector API does not offer),
//   - one token over the streamed rows (the memory-read bound of a decode step),
//   - sixteen independent FMA chains in registers (the core's FMA rate, no loads).
// The tile is the engine's: per run of 32 columns each row's 16 ints are loaded once and widened to the even
// columns (int << 16) and the odd ones (int & 0xFFFF0000), each token's even and odd activations are loaded once,
// and each of the 16 sums has one accumulator. AVX-512 only.
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { COLS = 1024, TOKENS = 8 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// 4 rows from w (row stride COLS) x 4 tokens from x (token stride COLS) -> y[token * 4 + row];
// prefetch != NULL: the same columns of the 4 rows there are prefetched into L1 as the tile goes
__attribute__((noipa)) static void tile(const uint16_t *w, const uint16_t *prefetch, int tokens, const float *x,
                                           float *y) {
    __m512 a[4][4];
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            a[i][j] = _mm512_setzero_ps();
        }
    }
    const __m512i high = _mm512_set1_epi32((int) 0xFFFF0000);
    for (int c = 0; c < COLS; c += 32) {
        if (prefetch) {
            for (int i = 0; i < 4; i++) {
                _mm_prefetch((const char *) (prefetch + (size_t) i * COLS + c), _MM_HINT_T0);
            }
        }
        __m512 e[4], d[4];
        for (int i = 0; i < 4; i++) {
            __m512i p = _mm512_loadu_si512((const void *) (w + (size_t) i * COLS + c));
            e[i] = _mm512_castsi512_ps(_mm512_slli_epi32(p, 16));
            d[i] = _mm512_castsi512_ps(_mm512_and_si512(p, high));
        }
        for (int j = 0; j < tokens; j++) {
            __m512 xe = _mm512_loadu_ps(x + j * COLS + c), xo = _mm512_loadu_ps(x + j * COLS + c + 16);
            for (int i = 0; i < 4; i++) {
                a[i][j] = _mm512_fmadd_ps(d[i], xo, _mm512_fmadd_ps(e[i], xe, a[i][j]));
            }
        }
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < tokens; j++) {
            y[j * 4 + i] = _mm512_reduce_add_ps(a[i][j]);
        }
    }
}

// one pass of `tokens` tokens over `rows` rows; returns multiply-adds per second over ~1 s of passes
static double rate(const uint16_t *w, long rows, int tokens, int prefetch, const float *x, double *sink) {
    float y[16];
    double t0 = now(), macs = 0;
    do {
        for (long r = 0; r < rows; r += 4) {
            const uint16_t *block = w + (size_t) r * COLS;
            for (int t = 0; t < tokens; t += 4) {
                int n = tokens - t < 4 ? tokens - t : 4;
                // rows past the end are padding the buffer carries for the prefetch
                tile(block, prefetch && t == 0 ? block + (size_t) 8 * COLS : NULL, n, x + (size_t) t * COLS, y);
                for (int q = 0; q < 4 * n; q++) {
                    *sink += y[q];
                }
            }
        }
        macs += (double) rows * COLS * tokens;
    } while (now() - t0 < 1.0);
    return macs / (now() - t0);
}

__attribute__((noipa)) static float chains(long iterations) {
    __m512 a[16], m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) {
        a[i] = _mm512_set1_ps(1.f);
    }
    for (long k = 0; k < iterations; k++) {
        for (int i = 0; i < 16; i++) {
            a[i] = _mm512_fmadd_ps(a[i], m, b);
        }
    }
    __m512 s = a[0];
    for (int i = 1; i < 16; i++) {
        s = _mm512_add_ps(s, a[i]);
    }
    return _mm512_reduce_add_ps(s);
}

int main(void) {
    const long big = 65536, small = 128;
    uint16_t *w = aligned_alloc(64, (size_t) (big + 8) * COLS * 2);
    float *x = aligned_alloc(64, (size_t) TOKENS * COLS * 4);
    if (!w || !x) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (long i = 0; i < (big + 8) * COLS; i++) {
        w[i] = (uint16_t) (0x3f80 + i % 7);   // BF16 1.0 and a little more
    }
    for (int i = 0; i < TOKENS * COLS; i++) {
        x[i] = (float) (i % 13) * 0.1f;
    }
    double sink = 0;
    for (int round = 0; round < 3; round++) {
        double inCache = rate(w, small, TOKENS, 0, x, &sink);
        double streamed = rate(w, big, TOKENS, 0, x, &sink);
        double prefetched = rate(w, big, TOKENS, 1, x, &sink);
        double one = rate(w, big, 1, 0, x, &sink);
        double t0 = now(), macs = 0;
        do {
            sink += chains(100000);
            macs += 16.0 * 16 * 100000;
        } while (now() - t0 < 1.0);
        printf("G multiply-adds/s: 8 tokens in L2 %.1f, streamed %.1f, streamed with prefetch %.1f; 1 token streamed %.1f "
               "(%.1f GB/s of weights); 16 FMA chains %.1f\n",
               inCache / 1e9, streamed / 1e9, prefetched / 1e9, one / 1e9, one * 2 / 1e9, macs / (now() - t0) / 1e9);
    }
    printf("(checksum %g)\n", sink);
    return 0;
}
