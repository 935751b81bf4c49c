/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An example DSO Detector plugin in C: "cblob", the brightest extended region of a frame. A box blur washes out
 * the stars, the highest peak is kept when it stands `k` standard deviations above the mean (configuration
 * "k=3.0"), and its box is grown while its edges touch pixels above half the peak. The heat map is the blurred
 * frame, scaled from the mean to the peak.
 * Deliberately small: it shows the whole ABI (create with a configuration, detect, free_result, destroy,
 * last_error) and nothing else.
 *
 * Build:   cc -std=c99 -O2 -shared -fPIC -I../include example_plugin.c -o libcblob.so   (or: make)
 * Install: copy libcblob.so into a directory of DSO_DETECTOR_PLUGIN_PATH or [plugins] of ~/.config/dso-detector/dso-detector.conf.
 *
 * The project's tests also build it with these macros to make broken plugins on purpose:
 *   -DWRONG_ABI      the table says ABI version 7
 *   -DNO_ENTRY       the entry symbol is missing
 *   -DPLUGIN_NAME=\"naive\"   another detector name (here one that clashes with a built-in)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dso_detector_plugin.h"

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "cblob"
#endif

typedef struct {
    double k;
    char error[256];
    DsoDetection detection;
    float *heat;
} Cblob;

/* Why the latest create() failed; the host reads it right after, on the same thread. */
static _Thread_local char create_error[256];

static const char *plugin_name(void) { return PLUGIN_NAME; }
static const char *plugin_version(void) { return "1.0.0"; }
static const char *plugin_description(void) {
    return "example plugin (C): the box around the pixels above mean + k sigma, with a heat map";
}

static void *plugin_create(const char *config) {
    double k = 3.0;
    if (config && *config) {
        char *end = NULL;
        if (strncmp(config, "k=", 2) != 0 || (k = strtod(config + 2, &end), end == config + 2 || *end != '\0')) {
            snprintf(create_error, sizeof create_error, "cblob: bad configuration '%s' (expected k=<number>)", config);
            return NULL;
        }
    }
    Cblob *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(create_error, sizeof create_error, "cblob: out of memory");
        return NULL;
    }
    c->k = k;
    return c;
}

/* Box blur of radius r through a summed-area table, so stars (a few pixels) fade and extended objects stay. */
static void box_blur(const float *p, size_t w, size_t h, size_t r, double *sat, float *out) {
    for (size_t y = 0; y <= h; y++)
        for (size_t x = 0; x <= w; x++)
            sat[y * (w + 1) + x] = (x && y) ? p[(y - 1) * w + x - 1] + sat[(y - 1) * (w + 1) + x] +
                                                  sat[y * (w + 1) + x - 1] - sat[(y - 1) * (w + 1) + x - 1]
                                            : 0.0;
    for (size_t y = 0; y < h; y++) {
        size_t y0 = y > r ? y - r : 0, y1 = y + r + 1 < h ? y + r + 1 : h;
        for (size_t x = 0; x < w; x++) {
            size_t x0 = x > r ? x - r : 0, x1 = x + r + 1 < w ? x + r + 1 : w;
            double s = sat[y1 * (w + 1) + x1] - sat[y0 * (w + 1) + x1] - sat[y1 * (w + 1) + x0] + sat[y0 * (w + 1) + x0];
            out[y * w + x] = (float)(s / (double)((x1 - x0) * (y1 - y0)));
        }
    }
}

/* Whether any pixel of the row or column segment is at least `level`. */
static int any_above(const float *b, size_t w, size_t x0, size_t x1, size_t y0, size_t y1, float level) {
    for (size_t y = y0; y <= y1; y++)
        for (size_t x = x0; x <= x1; x++)
            if (b[y * w + x] >= level) return 1;
    return 0;
}

static int32_t plugin_detect(void *handle, const DsoFrame *frame, DsoResult *out) {
    Cblob *c = handle;
    if (!c || !frame || !out || !frame->planes || !frame->planes[0] || frame->width == 0 || frame->height == 0) {
        if (c) snprintf(c->error, sizeof c->error, "cblob: null argument or empty frame");
        return DSO_STATUS_INVALID_ARGUMENT;
    }
    size_t w = frame->width, h = frame->height, n = w * h;
    size_t r = (w < h ? w : h) / 25;
    r = r < 2 ? 2 : r;
    const float *p = frame->planes[frame->n_planes == 3 ? 1 : 0]; /* green carries most signal */
    double *sat = malloc((w + 1) * (h + 1) * sizeof *sat);
    c->heat = malloc(n * sizeof *c->heat);
    if (!sat || !c->heat) {
        free(sat);
        snprintf(c->error, sizeof c->error, "cblob: out of memory for a %zux%zu frame", w, h);
        return DSO_STATUS_ERROR;
    }
    float *b = c->heat; /* the blurred frame, turned into the heat map in place below */
    box_blur(p, w, h, r, sat, b);
    free(sat);
    double sum = 0, sum2 = 0;
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
        sum += b[i];
        sum2 += (double)b[i] * b[i];
        if (b[i] > b[top]) top = i;
    }
    double mean = sum / n, sd = sqrt(fmax(sum2 / n - mean * mean, 1e-12)), peak = b[top];
    double snr = (peak - mean) / sd;
    /* Grow a rectangle from the peak while its edges still touch pixels above half the peak's height. */
    float half = (float)(mean + (peak - mean) / 2);
    size_t x0 = top % w, x1 = x0, y0 = top / w, y1 = y0;
    for (int grown = 1; grown;) {
        grown = 0;
        if (x0 > 0 && any_above(b, w, x0 - 1, x0 - 1, y0, y1, half)) x0--, grown = 1;
        if (x1 + 1 < w && any_above(b, w, x1 + 1, x1 + 1, y0, y1, half)) x1++, grown = 1;
        if (y0 > 0 && any_above(b, w, x0, x1, y0 - 1, y0 - 1, half)) y0--, grown = 1;
        if (y1 + 1 < h && any_above(b, w, x0, x1, y1 + 1, y1 + 1, half)) y1++, grown = 1;
    }
    for (size_t i = 0; i < n; i++) b[i] = (float)fmin(fmax((b[i] - mean) / fmax(peak - mean, 1e-12), 0.0), 1.0);
    memset(out, 0, sizeof *out);
    if (snr >= c->k) {
        c->detection = (DsoDetection){(float)x0, (float)y0, (float)(x1 - x0 + 1), (float)(y1 - y0 + 1),
                                      (float)(snr / (snr + c->k)), "dso"};
        out->detections = &c->detection;
        out->n_detections = 1;
    }
    out->heatmap = (DsoHeatMap){frame->width, frame->height, c->heat};
    return DSO_STATUS_OK;
}

static void plugin_free_result(void *handle, DsoResult *result) {
    Cblob *c = handle;
    if (c) {
        free(c->heat);
        c->heat = NULL;
    }
    if (result) memset(result, 0, sizeof *result);
}

static void plugin_destroy(void *handle) {
    Cblob *c = handle;
    if (c) free(c->heat);
    free(c);
}

static const char *plugin_last_error(void *handle) {
    return handle ? ((Cblob *)handle)->error : create_error;
}

static const DsoDetectorVTable VTABLE = {
#ifdef WRONG_ABI
    7,
#else
    DSO_PLUGIN_ABI_VERSION,
#endif
    sizeof(DsoDetectorVTable),
    plugin_name,
    plugin_version,
    plugin_description,
    plugin_create,
    plugin_detect,
    plugin_free_result,
    plugin_destroy,
    plugin_last_error,
};

#ifndef NO_ENTRY
const DsoDetectorVTable *dso_detector_plugin(void) { return &VTABLE; }
#else
/* Exported under another name, so the library loads but has no entry point. */
const DsoDetectorVTable *dso_detector_plugin_misspelt(void) { return &VTABLE; }
#endif
