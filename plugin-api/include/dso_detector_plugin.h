/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * dso_detector_plugin.h: the C ABI of DSO Detector plugins, version 1.
 *
 * A plugin is a shared library exporting one function, dso_detector_plugin(), which returns a table that lives as
 * long as the library. The host (indi_dso_detector, dso-detect) reads abi_version and struct_size first and refuses
 * any other version. Everything here mirrors plugin-api/src/abi.rs; a test compiles this header and compares every
 * size and offset with the Rust definitions, so the two cannot drift apart.
 *
 * Ownership:
 *  - the host owns the DsoFrame and everything it points to, only for the duration of detect();
 *  - the plugin owns what detect() writes into the DsoResult until the host calls free_result() for it, which it
 *    does exactly once after every detect() call, whatever the status (free_result must accept an empty result);
 *  - name(), version(), description() return static strings; last_error() returns a string valid until the next
 *    call on the same handle;
 *  - a handle is used by one thread at a time (not always the same one); different handles may run concurrently.
 *
 * Never let an exception or a longjmp cross these functions; return DSO_STATUS_PANIC instead.
 */
#ifndef DSO_DETECTOR_PLUGIN_H
#define DSO_DETECTOR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DSO_PLUGIN_ABI_VERSION 1u
#define DSO_PLUGIN_ENTRY "dso_detector_plugin"
#define DSO_LABEL_LEN 32

#define DSO_STATUS_OK 0               /* the result is filled */
#define DSO_STATUS_ERROR 1            /* this frame failed; last_error() says why; the next one may work */
#define DSO_STATUS_INVALID_ARGUMENT 2 /* the host passed something unacceptable; last_error() says why */
#define DSO_STATUS_PANIC 3            /* an internal failure was caught: the host disables the detector */

#define DSO_ENCODING_LINEAR 0u    /* raw sensor data */
#define DSO_ENCODING_STRETCHED 1u /* already stretched for display (JPEG, PNG) */

/* One FITS header card: NUL-terminated UTF-8, owned by the host. */
typedef struct DsoHeaderCard {
    const char *keyword;
    const char *value;
} DsoHeaderCard;

/* A frame: n_planes (1 mono, 3 R,G,B) planes of width*height row-major floats in 0..1, origin top-left. */
typedef struct DsoFrame {
    uint32_t width;
    uint32_t height;
    uint32_t n_planes;
    uint32_t encoding; /* DSO_ENCODING_* */
    const float *const *planes;
    const DsoHeaderCard *header; /* may be NULL when n_header is 0 */
    size_t n_header;
} DsoFrame;

/* One detection, in pixels of the frame; confidence in 0..1; label NUL-terminated UTF-8 ("" means "dso"). */
typedef struct DsoDetection {
    float x;
    float y;
    float width;
    float height;
    float confidence;
    char label[DSO_LABEL_LEN];
} DsoDetection;

/* A saliency map of the frame's size, width*height values in 0..1; values == NULL means no heat map. */
typedef struct DsoHeatMap {
    uint32_t width;
    uint32_t height;
    const float *values;
} DsoHeatMap;

/* What detect() writes (the host zeroes it first); owned by the plugin until free_result(). */
typedef struct DsoResult {
    const DsoDetection *detections; /* may be NULL when n_detections is 0 */
    size_t n_detections;
    DsoHeatMap heatmap;
} DsoResult;

/* The table, version 1. Later minor versions only append fields; anything else changes abi_version. */
typedef struct DsoDetectorVTable {
    uint32_t abi_version; /* DSO_PLUGIN_ABI_VERSION; never moves */
    uint32_t struct_size; /* sizeof(DsoDetectorVTable); never moves */
    const char *(*name)(void); /* 1-32 chars of a-z 0-9 _ - */
    const char *(*version)(void);
    const char *(*description)(void);
    void *(*create)(const char *config); /* NULL on failure: last_error(NULL) says why */
    int32_t (*detect)(void *handle, const DsoFrame *frame, DsoResult *out); /* DSO_STATUS_* */
    void (*free_result)(void *handle, DsoResult *result);
    void (*destroy)(void *handle);
    const char *(*last_error)(void *handle); /* NULL handle: last failed create() on this thread */
} DsoDetectorVTable;

/* The one symbol a plugin exports. */
typedef const DsoDetectorVTable *(*DsoEntryFn)(void);
const DsoDetectorVTable *dso_detector_plugin(void);

#ifdef __cplusplus
}
#endif

#endif /* DSO_DETECTOR_PLUGIN_H */
