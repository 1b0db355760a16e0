// libpng reports errors by longjmp, which Swift cannot catch; these two wrappers own the setjmp and turn an error
// into a return code plus a message.
#ifndef TWEEN_CPNG_SHIM_H
#define TWEEN_CPNG_SHIM_H

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned width, height;
    unsigned channels;   /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    unsigned bitDepth;   /* 8 or 16; 16-bit samples are returned in host (little-endian) order */
    unsigned char *pixels; /* row-major, interleaved; free with tween_png_free */
    char message[256];
} tween_png_image;

static void tween_png_error(png_structp png, png_const_charp msg) {
    tween_png_image *img = (tween_png_image *)png_get_error_ptr(png);
    if (img) snprintf(img->message, sizeof img->message, "%s", msg);
    png_longjmp(png, 1);
}
static void tween_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static inline void tween_png_free(tween_png_image *img) { free(img->pixels); img->pixels = NULL; }

/// Returns 0 on success; otherwise -1 with `img->message` set.
static inline int tween_png_read(const char *path, tween_png_image *img) {
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(img->message, sizeof img->message, "cannot open file"); return -1; }
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
        fclose(f); snprintf(img->message, sizeof img->message, "not a PNG file"); return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, img, tween_png_error, tween_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { fclose(f); snprintf(img->message, sizeof img->message, "out of memory"); return -1; }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows); free(img->pixels); img->pixels = NULL; fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    int colorType = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    img->width = png_get_image_width(png, info);
    img->height = png_get_image_height(png, info);
    img->channels = png_get_channels(png, info);
    img->bitDepth = png_get_bit_depth(png, info);
    size_t rowBytes = png_get_rowbytes(png, info);
    img->pixels = malloc(rowBytes * img->height);
    rows = malloc(sizeof(png_bytep) * img->height);
    if (!img->pixels || !rows) png_error(png, "out of memory");
    for (unsigned y = 0; y < img->height; y++) rows[y] = img->pixels + y * rowBytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    fclose(f);
    return 0;
}

/// Writes interleaved 8- or 16-bit (host order) pixels; returns 0 or -1 with `message` (256 bytes) set.
static inline int tween_png_write(const char *path, const unsigned char *pixels, unsigned width, unsigned height,
                                  unsigned channels, unsigned bitDepth, int compression, char *message) {
    tween_png_image ctx; memset(&ctx, 0, sizeof ctx);
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(message, 256, "cannot create file"); return -1; }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, tween_png_error, tween_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { fclose(f); snprintf(message, 256, "out of memory"); return -1; }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        snprintf(message, 256, "%s", ctx.message);
        return -1;
    }
    int colorType = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA
                  : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
    png_init_io(png, f);
    png_set_compression_level(png, compression);
    png_set_IHDR(png, info, width, height, (int)bitDepth, colorType, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bitDepth == 16) png_set_swap(png);
    size_t rowBytes = (size_t)width * channels * (bitDepth / 8);
    for (unsigned y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + y * rowBytes));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) { snprintf(message, 256, "write failed"); return -1; }
    return 0;
}

#endif
