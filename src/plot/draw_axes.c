/* draw_axes.c: ticks chosen and labelled here rather than by PLplot, so that
 * the width of every label is known before it is drawn: an axis label is set
 * clear of its tick labels, x labels that would run into each other are
 * thinned, and a page can give each panel the margin its labels need.
 * Ticks point outward and stand on the left and bottom axes only, as
 * matplotlib draws them. */
#include "draw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A major tick's length and the gap between a tick and its label, in
 * character heights at scale 1 (3 mm on the default page, PLplot's own). */
#define TICK_CH 0.40
#define GAP_CH 0.22

static double tick_len(void)
{
    return TICK_CH * st_draw_ch(1.0);
}

static double label_gap(void)
{
    return GAP_CH * st_draw_ch(1.0);
}

/* A round step near raw: 1, 2, 2.5 or 5 times a power of ten, the smallest
 * not below raw; *quarter is set for 2.5 (a label needs one more digit). */
static double round_step(double raw, int *quarter)
{
    static const double mult[] = { 1.0, 2.0, 2.5, 5.0, 10.0 };
    double mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    int i = 0;
    while (i < 4 && mult[i] < f * (1.0 - 1e-9))
        i++;
    *quarter = i == 2;
    return mult[i] * mag;
}

void st_ticks_linear(struct st_ticks *t, double lo, double hi, int want)
{
    memset(t, 0, sizeof *t);
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
        return;
    int quarter;
    double step = round_step((hi - lo) / (want > 1 ? want : 1), &quarter);
    int decimals = (int)fmax(0.0, -floor(log10(step) + 1e-9) + quarter);
    double big = fmax(fabs(lo), fabs(hi));
    int plain = big < 1e6 && step >= 1e-5;
    for (double k = ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step && t->n < ST_MAX_TICKS;
         k++) {
        double v = k * step;
        if (fabs(v) < 1e-9 * step)
            v = 0.0;
        t->v[t->n] = v;
        if (plain)
            snprintf(t->lab[t->n], sizeof t->lab[0], "%.*f", decimals, v);
        else
            snprintf(t->lab[t->n], sizeof t->lab[0], "%.3g", v);
        t->n++;
    }
}

int st_ticks_want(double len)
{
    int want = (int)(len / (3.7 * st_draw_ch(FONT_TICKS)));
    return want < 3 ? 3 : want > 9 ? 9 : want;
}

/* Round values 1, 2, 5 (or, with fine set, every digit) times a power of
 * ten in 10^lo..10^hi, labelled "%g". */
static void ticks_round(struct st_ticks *t, double lo, double hi, int fine)
{
    static const double m125[] = { 1.0, 2.0, 5.0 };
    t->n = 0;
    for (int d = (int)floor(lo); d <= (int)ceil(hi) && t->n < ST_MAX_TICKS; d++)
        for (int k = 0; k < (fine ? 9 : 3) && t->n < ST_MAX_TICKS; k++) {
            double v = (fine ? k + 1.0 : m125[k]) * pow(10.0, d), l = log10(v);
            if (l < lo - 1e-9 || l > hi + 1e-9)
                continue;
            t->v[t->n] = l;
            snprintf(t->lab[t->n], sizeof t->lab[0], "%g", v);
            t->n++;
        }
}

void st_ticks_log(struct st_ticks *t, double lo, double hi, int max)
{
    memset(t, 0, sizeof *t);
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
        return;
    int d0 = (int)ceil(lo - 1e-9), d1 = (int)floor(hi + 1e-9), count = d1 - d0 + 1;
    if (count >= 2) {
        int every = (count + max - 1) / (max > 0 ? max : 1);
        every = every < 1 ? 1 : every;
        for (int d = d0; d <= d1 && t->n < ST_MAX_TICKS; d++) {
            if ((d - d0) % every)
                continue;
            t->v[t->n] = d;
            snprintf(t->lab[t->n], sizeof t->lab[0], "10#u%d#d", d);
            t->n++;
        }
        t->minor = every == 1 && count <= 10;
        return;
    }
    /* Less than two decades: round values, as many as read well. */
    ticks_round(t, lo, hi, 0);
    if (t->n < 3)
        ticks_round(t, lo, hi, 1);
    if (t->n < 3) {
        /* Less than a few digits' worth: a linear step, placed on the log axis. */
        struct st_ticks lin;
        st_ticks_linear(&lin, pow(10.0, lo), pow(10.0, hi), 4);
        t->n = 0;
        for (int i = 0; i < lin.n; i++)
            if (lin.v[i] > 0.0) {
                t->v[t->n] = log10(lin.v[i]);
                snprintf(t->lab[t->n], sizeof t->lab[0], "%s", lin.lab[i]);
                t->n++;
            }
    }
    t->minor = hi - lo >= 0.7;
}

double st_ticks_width(const struct st_ticks *t)
{
    double w = 0.0;
    for (int i = 0; i < t->n; i++)
        w = fmax(w, st_draw_text_w(t->lab[i], FONT_TICKS));
    return w;
}

void st_ticks_thin(struct st_ticks *t, double lo, double hi, double len, int vertical)
{
    if (t->n < 2 || !(hi > lo))
        return;
    double need = (vertical ? st_draw_ch(FONT_TICKS) : st_ticks_width(t)) +
                  0.8 * st_draw_ch(FONT_TICKS);
    double gap = INFINITY;
    for (int i = 1; i < t->n; i++)
        gap = fmin(gap, (t->v[i] - t->v[i - 1]) / (hi - lo) * len);
    int every = 1;
    while (every < t->n && every * gap < need)
        every++;
    for (int i = 0; i < t->n && every > 1; i++)
        if (i % every)
            t->lab[i][0] = '\0';
}

double st_axis_reach(const struct st_ticks *t)
{
    return tick_len() + label_gap() + st_ticks_width(t);
}

double st_axis_margin(const struct st_ticks *t, int has_label)
{
    double ch = st_draw_ch(FONT_LABEL);
    return st_axis_reach(t) + (has_label ? 1.55 * ch : 0.0) + 0.4 * ch;
}

/* Makes the current viewport `grow` page units larger on every side, with
 * the window grown to match, so that what is drawn just outside the axes
 * (outward ticks) is not clipped; restore() undoes it. */
static PLFLT keep_vp[4], keep_w[4];

static void grow_view(double grow)
{
    plgvpd(&keep_vp[0], &keep_vp[1], &keep_vp[2], &keep_vp[3]);
    plgvpw(&keep_w[0], &keep_w[1], &keep_w[2], &keep_w[3]);
    double gx = grow / st_draw_page_w(), gy = grow / st_draw_page_h();
    double sx = (keep_w[1] - keep_w[0]) / (keep_vp[1] - keep_vp[0]);
    double sy = (keep_w[3] - keep_w[2]) / (keep_vp[3] - keep_vp[2]);
    plvpor(keep_vp[0] - gx, keep_vp[1] + gx, keep_vp[2] - gy, keep_vp[3] + gy);
    plwind(keep_w[0] - gx * sx, keep_w[1] + gx * sx, keep_w[2] - gy * sy, keep_w[3] + gy * sy);
}

static void restore(void)
{
    plvpor(keep_vp[0], keep_vp[1], keep_vp[2], keep_vp[3]);
    plwind(keep_w[0], keep_w[1], keep_w[2], keep_w[3]);
}

/* Minor ticks of a log axis at 2..9 times each decade in lo..hi: on the y
 * axis (at x, of length len world units leftward), or the x axis. */
static void minor_ticks(double lo, double hi, int y_axis, double at, double len)
{
    for (int d = (int)floor(lo); d <= (int)ceil(hi); d++)
        for (int k = 2; k <= 9; k++) {
            double v = d + log10((double)k);
            if (v < lo || v > hi)
                continue;
            if (y_axis)
                plline(2, (const PLFLT[]){ at - len, at }, (const PLFLT[]){ v, v });
            else
                plline(2, (const PLFLT[]){ v, v }, (const PLFLT[]){ at - len, at });
        }
}

/* How far a superscript ("10#u-4#d") raises labels t above their line, in
 * character heights. */
static double raised(const struct st_ticks *t)
{
    for (int i = 0; t && i < t->n; i++)
        if (strstr(t->lab[i], "#u"))
            return 0.35;
    return 0.0;
}

/* The labels of t as plain text ("10#u-4#d" as "10^-4"), comma-separated,
 * for the figure's description. */
static void describe_ticks(const char *kind, const struct st_ticks *t)
{
    char text[ST_MAX_TICKS * 34] = "";
    size_t len = 0;
    for (int i = 0; i < t->n && len + 40 < sizeof text; i++) {
        if (!t->lab[i][0])
            continue;
        len += (size_t)snprintf(text + len, sizeof text - len, "%s", len ? ", " : "");
        for (const char *c = t->lab[i]; *c; c++) {
            if (c[0] == '#' && (c[1] == 'u' || c[1] == 'd')) {
                if (c[1] == 'u')
                    text[len++] = '^';
                c++;
                continue;
            }
            text[len++] = *c;
        }
        text[len] = '\0';
    }
    st_draw_describe(kind, text);
}

void st_draw_axes(const struct st_ticks *xt, int x_labels, const struct st_ticks *yt)
{
    PLFLT vx0, vx1, vy0, vy1, x0, x1, y0, y1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgvpw(&x0, &x1, &y0, &y1);
    double pw = (vx1 - vx0) * st_draw_page_w(), ph = (vy1 - vy0) * st_draw_page_h();
    double tl = tick_len(), ch = st_draw_ch(FONT_TICKS);
    double lx = tl / pw * (x1 - x0), ly = tl / ph * (y1 - y0); /* a tick in world units */
    plcol0(COLOR_AXES);
    plwidth(1.0);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    plschr(0.0, FONT_TICKS);
    grow_view(tl + 2.0);
    for (int i = 0; yt && i < yt->n; i++)
        plline(2, (const PLFLT[]){ x0 - lx, x0 }, (const PLFLT[]){ yt->v[i], yt->v[i] });
    if (yt && yt->minor)
        minor_ticks(y0, y1, 1, x0, 0.5 * lx);
    for (int i = 0; xt && i < xt->n; i++)
        plline(2, (const PLFLT[]){ xt->v[i], xt->v[i] }, (const PLFLT[]){ y0 - ly, y0 });
    if (xt && xt->minor)
        minor_ticks(x0, x1, 0, y0, 0.5 * ly);
    restore();
    if (yt)
        describe_ticks("y ticks", yt);
    if (xt && x_labels)
        describe_ticks("x ticks", xt);
    for (int i = 0; yt && i < yt->n; i++)
        if (yt->lab[i][0])
            plmtex("lv", (tl + label_gap()) / ch, (yt->v[i] - y0) / (y1 - y0), 1.0, yt->lab[i]);
    for (int i = 0; x_labels && xt && i < xt->n; i++)
        if (xt->lab[i][0])
            plmtex("b", (tl + label_gap()) / ch + 0.5 + raised(xt), (xt->v[i] - x0) / (x1 - x0),
                   0.5, xt->lab[i]);
}

void st_draw_xlabel(const char *label, const struct st_ticks *xt)
{
    double ch = st_draw_ch(FONT_LABEL);
    double below = tick_len() + label_gap() + st_draw_ch(FONT_TICKS) * (1.0 + raised(xt));
    plcol0(COLOR_AXES);
    plschr(0.0, FONT_LABEL);
    plmtex("b", below / ch + 0.3 + 0.5, 0.5, 0.5, label);
    st_draw_describe("x axis", label);
}

void st_draw_ylabel(const char *label, double reach)
{
    PLFLT vx0, vx1, vy0, vy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    double room = (vy1 - vy0) * st_draw_page_h(), scale = FONT_LABEL;
    double w = st_draw_text_w(label, scale);
    if (w > room) /* a short panel (one of two stacked) */
        scale = fmax(0.55, scale * room / w);
    double ch = st_draw_ch(scale);
    plcol0(COLOR_AXES);
    plschr(0.0, scale);
    /* plmtex's distance is to the text's middle; its descenders reach 0.72
     * of a character height from there toward the axis. */
    plmtex("l", reach / ch + 0.25 + 0.72, 0.5, 0.5, label);
    st_draw_describe("y axis", label);
}

double st_draw_panels_top(void)
{
    /* The page title's middle is 1.5 of its characters under the top; a
     * panel title's 1.0 of its own over the axes. */
    double room = 2.3 * st_draw_ch(FONT_TITLE) + 1.65 * st_draw_ch(FONT_PANEL_TITLE);
    return fmin(0.80, 1.0 - room / st_draw_page_h());
}

double st_draw_panels_bottom(void)
{
    double room = tick_len() + label_gap() + 1.35 * st_draw_ch(FONT_TICKS) +
                  1.6 * st_draw_ch(FONT_LABEL) + 6.0;
    return fmax(0.14, room / st_draw_page_h());
}
