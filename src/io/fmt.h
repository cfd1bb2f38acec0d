/* fmt.h: number formatting for the per-step CSV, where printf is the largest
 * cost of a step after the layers themselves. */
#ifndef ST_FMT_H
#define ST_FMT_H

#include <stddef.h>

/* Longest text st_fmt_g9 writes, with its terminating NUL. */
#define ST_FMT_G9_MAX 32

/* Writes v as printf's "%.9g" does (9 significant digits, correctly rounded,
 * ties to even) into buf[ST_FMT_G9_MAX]; returns the length. Exact integer
 * arithmetic for the usual range, snprintf for the rest. */
int st_fmt_g9(char *buf, double v);

/* Writes the integer n in decimal; returns the length (buf holds 21 bytes). */
int st_fmt_long(char *buf, long n);

#endif
