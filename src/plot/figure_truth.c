/* figure_truth.c: the figure of `sparsetune truth`: per net, heatmaps of
 * methods (rows) against the re-drawn layers (columns), the share of seeds
 * naming exactly those layers and the share naming a set that suffices with
 * the fewest layers that do. The
 * nets are stacked, one band of the page each. */
#include "draw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room on the page in pixels (points for SVG and PDF): a character of a row
 * name at FONT_TICKS (an upper bound, measured on the PNG), the gap between a
 * net's two heatmaps, the margin after them; the title's band and each net's
 * (one net: ST_FIG_HEIGHT in all), and in a net's band the room above the
 * heatmaps (its name, their titles) and below (the column names), and the
 * least height of a row of a heatmap. */
#define CHAR_W 10.5
#define GAP 90.0
#define MARGIN 40.0
#define TITLE_H 95.0
#define NET_H (ST_FIG_HEIGHT - TITLE_H)
#define ABOVE 75.0
#define BELOW 45.0
#define ROW_H 22.0

enum st_status st_figure_truth(const char *path, enum st_fig_format fmt,
                               const struct st_fig_truth *f, struct st_err *err)
{
    char tmp[4300], head[300];
    if (f->n_nets < 1 || f->n_methods < 1 || f->n_truths < 1)
        return st_err_set(err, ST_ERR_ARG, "%s: no net, method or truth to draw", path);
    /* The second heatmap's rows are the first's, named once: blank names. */
    const char **blank = calloc((size_t)f->n_methods, sizeof *blank);
    if (!blank)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    size_t longest = 4;
    for (int m = 0; m < f->n_methods; m++) {
        blank[m] = "";
        longest = strlen(f->methods[m]) > longest ? strlen(f->methods[m]) : longest;
    }
    int panels = f->sufficient ? 2 : 1;
    double net_h = ABOVE + BELOW + ROW_H * f->n_methods > NET_H
                       ? ABOVE + BELOW + ROW_H * f->n_methods
                       : NET_H;
    double width = ST_FIG_WIDTH, height = TITLE_H + f->n_nets * net_h;
    enum st_status st = st_draw_page_begin_tall(path, fmt, (int)width, (int)height, "", tmp,
                                                sizeof tmp, err);
    if (st != ST_OK) {
        free(blank);
        return st;
    }
    /* PLplot's default text height is in proportion to the page's width plus
     * its height: a longer page gets a smaller one, so that its text has the
     * size of every other figure's (the title is drawn here, after that). */
    PLFLT def, ht;
    plgchr(&def, &ht);
    plschr(def * (ST_FIG_WIDTH + ST_FIG_HEIGHT) / (width + height), FONT_TITLE);
    plmtex("t", -1.5, 0.5, 0.5, f->title);
    st_draw_page_title(f->title);
    if (f->subtitle) {
        plschr(0.0, FONT_PANEL_TITLE);
        plmtex("t", -4.0, 0.5, 0.5, f->subtitle);
    }
    /* The heatmaps share the width left after the row names, the gaps and
     * the margin. */
    double names_w = CHAR_W * (double)longest + 30.0;
    double panel_w = (width - names_w - (panels - 1) * GAP - MARGIN) / panels;
    size_t cells = (size_t)f->n_methods * (size_t)f->n_truths;
    for (int n = 0; n < f->n_nets; n++) {
        double top = TITLE_H + n * net_h + ABOVE, bottom = TITLE_H + (n + 1) * net_h - BELOW;
        double vy0 = 1.0 - bottom / height, vy1 = 1.0 - top / height;
        plvpor(names_w / width, (width - MARGIN) / width, vy0, vy1);
        plcol0(COLOR_AXES);
        plschr(0.0, FONT_LABEL);
        snprintf(head, sizeof head, "net %s", f->nets[n]);
        plmtex("t", 2.3, 0.5, 0.5, head);
        for (int p = 0; p < panels; p++) {
            const double *v = (p == 0 ? f->exact : f->sufficient) + (size_t)n * cells;
            double x0 = names_w + p * (panel_w + GAP);
            st_draw_heatmap_cells(v, f->n_methods, f->n_truths, p == 0 ? f->methods : blank,
                                  f->truths + (size_t)n * (size_t)f->n_truths, NULL,
                                  p == 0 ? "named = re-drawn" : "named: fewest layers that suffice", 1.0, 2,
                                  x0 / width, (x0 + panel_w) / width, vy0, vy1);
        }
    }
    free(blank);
    return st_draw_page_end(tmp, path, err);
}
