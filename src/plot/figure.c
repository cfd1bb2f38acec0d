/* figure.c: what every figure shares besides drawing: the formats. The
 * figures themselves are in figure_run.c and figure_sweep.c, on draw.c. */
#include "figure.h"

static const char *const fmt_names[] = { "png", "svg", "pdf" };

const char *st_fig_format_name(enum st_fig_format f)
{
    return (unsigned)f < 3 ? fmt_names[f] : NULL;
}
