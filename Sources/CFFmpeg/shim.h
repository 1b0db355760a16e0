// Re-exports what Swift cannot import from FFmpeg's headers: function-like macros and constants built from them.
#ifndef TWEEN_CFFMPEG_SHIM_H
#define TWEEN_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/mathematics.h>
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>

static inline int tween_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int tween_averror_eof(void) { return AVERROR_EOF; }
static inline int tween_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int tween_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int64_t tween_nopts(void) { return AV_NOPTS_VALUE; }
static inline int tween_error_is_errno(int err, int code) { return err == AVERROR(code); }

/// Copies the chapters of `in` into `out`, rescaled to each chapter's own time base (kept as is).
static inline int tween_copy_chapters(const AVFormatContext *in, AVFormatContext *out) {
    if (in->nb_chapters == 0) return 0;
    out->chapters = av_calloc(in->nb_chapters, sizeof(AVChapter *));
    if (!out->chapters) return AVERROR(ENOMEM);
    for (unsigned i = 0; i < in->nb_chapters; i++) {
        const AVChapter *src = in->chapters[i];
        AVChapter *dst = av_mallocz(sizeof(AVChapter));
        if (!dst) return AVERROR(ENOMEM);
        dst->id = src->id;
        dst->time_base = src->time_base;
        dst->start = src->start;
        dst->end = src->end;
        av_dict_copy(&dst->metadata, src->metadata, 0);
        out->chapters[i] = dst;
        out->nb_chapters = i + 1;
    }
    return 0;
}

/// The rotation in degrees (counter-clockwise, as ffmpeg reports it) stored in a stream's display matrix, or 0.
static inline double tween_stream_rotation(const AVStream *st) {
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m) return 0;
    double r = av_display_rotation_get((const int32_t *)m);
    return r != r ? 0 : r;  /* NaN for a degenerate matrix */
}

/// Copies the display matrix (rotation) side data from one stream to another.
static inline int tween_copy_display_matrix(const AVStream *in, AVStream *out) {
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(in, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!m) return 0;
    uint8_t *d = av_stream_new_side_data(out, AV_PKT_DATA_DISPLAYMATRIX, size);
    if (!d) return AVERROR(ENOMEM);
    memcpy(d, m, size);
    return 0;
}

/// The pixel formats an encoder declares, terminated by AV_PIX_FMT_NONE (NULL when it declares none).
static inline const enum AVPixelFormat *tween_codec_pix_fmts(const AVCodec *c) { return c->pix_fmts; }
static inline const enum AVSampleFormat *tween_codec_sample_fmts(const AVCodec *c) { return c->sample_fmts; }
static inline const int *tween_codec_sample_rates(const AVCodec *c) { return c->supported_samplerates; }

#endif
