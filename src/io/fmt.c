/* fmt.c: "%.9g" without printf.
 *
 * v = m * 2^e exactly (m < 2^53). For 9 digits we need q = v * 10^k rounded
 * to an integer, k = 8 - E with E = floor(log10 |v|). When 0 <= k <= 22 and
 * e <= 0, N = m * 10^k fits in 128 bits and q = N / 2^-e is exact integer
 * work: the remainder decides the rounding, ties to even like glibc. Other
 * values (huge, tiny, non-finite) go to snprintf. */
#include "fmt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

int st_fmt_long(char *buf, long n)
{
    char t[24];
    int len = 0, k = 0;
    unsigned long u = n < 0 ? 0UL - (unsigned long)n : (unsigned long)n;

    do {
        t[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        buf[len++] = '-';
    while (k)
        buf[len++] = t[--k];
    buf[len] = '\0';
    return len;
}

#define P10_19 10000000000000000000ULL
static const u128 pow10_tab[23] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, P10_19, (u128)P10_19 * 10, (u128)P10_19 * 100, (u128)P10_19 * 1000
};

/* N = m * 10^k; *trunc = floor(N / 2^s), returns it rounded (ties to even). */
static u128 scaled(uint64_t m, int k, int s, u128 *trunc)
{
    u128 n = m * pow10_tab[k], q, rem, half;
    if (s == 0) {
        *trunc = n;
        return n;
    }
    if (s >= 128) {
        *trunc = 0;
        return 0;
    }
    q = n >> s;
    rem = n - (q << s);
    half = (u128)1 << (s - 1);
    *trunc = q;
    return rem > half || (rem == half && (q & 1)) ? q + 1 : q;
}

static int fallback(char *buf, double v)
{
    int n = snprintf(buf, ST_FMT_G9_MAX, "%.9g", v);
    return n < 0 ? 0 : n;
}

int st_fmt_g9(char *buf, double v)
{
    double a = fabs(v);
    int e2, E, len = 0;
    uint64_t m, bits;
    int64_t q = 0;
    char d[10];

    if (!isfinite(v) || a == 0.0 || a < 1e-13 || a >= 1e9)
        return fallback(buf, v);
    /* a = m * 2^e2 exactly, from the bits (a is normal here). */
    memcpy(&bits, &a, sizeof bits);
    m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    e2 = (int)(bits >> 52) - 1075;
    if (e2 > 0)
        return fallback(buf, v);
    /* E = floor(log10 a): a is in [2^(e2+52), 2^(e2+53)), so this estimate is
     * at most one too small; the digits below settle it. */
    E = (int)floor((e2 + 52) * 0.30102999566398120);
    for (int tries = 0;; tries++) {
        int k = 8 - E;
        u128 tr, r;
        if (tries == 3 || k < 0 || k > 22)
            return fallback(buf, v);
        r = scaled(m, k, -e2, &tr);
        if (tr >= 1000000000)
            E++;
        else if (tr < 100000000)
            E--;
        else {
            q = (int64_t)r;
            break;
        }
    }
    if (q == 1000000000) { /* 9.999999995 rounds up to 10.0000000 */
        q = 100000000;
        E++;
    }
    for (int i = 8; i >= 0; i--) {
        d[i] = (char)('0' + q % 10);
        q /= 10;
    }
    int nd = 9; /* significant digits after dropping trailing zeros */
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    if (v < 0)
        buf[len++] = '-';
    if (E < -4 || E >= 9) {
        buf[len++] = d[0];
        if (nd > 1) {
            buf[len++] = '.';
            memcpy(buf + len, d + 1, (size_t)nd - 1);
            len += nd - 1;
        }
        buf[len++] = 'e';
        buf[len++] = E < 0 ? '-' : '+';
        int ae = E < 0 ? -E : E;
        if (ae >= 100)
            buf[len++] = (char)('0' + ae / 100);
        buf[len++] = (char)('0' + ae / 10 % 10);
        buf[len++] = (char)('0' + ae % 10);
    } else if (E >= 0) {
        /* E + 1 digits before the point */
        for (int i = 0; i <= E; i++)
            buf[len++] = i < nd ? d[i] : '0';
        if (nd > E + 1) {
            buf[len++] = '.';
            memcpy(buf + len, d + E + 1, (size_t)(nd - E - 1));
            len += nd - E - 1;
        }
    } else {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = 0; i < -E - 1; i++)
            buf[len++] = '0';
        memcpy(buf + len, d, (size_t)nd);
        len += nd;
    }
    buf[len] = '\0';
    return len;
}
