/* Baseline and progressive JPEG decoding through libjpeg-turbo (libjpeg.so.62, carried beside this shim), whose SIMD
   kernels decode about twice as fast as SkiaSharp's scalar build. The settings are Pillow's (ISLOW IDCT, fancy upsampling,
   no scaling), and libjpeg-turbo's SIMD kernels give the same samples as its C code, so the pixels are Pillow's.
   Errors come back as return codes with libjpeg's message; nothing is printed. See OpenVision/Vision/TurboJpeg.cs. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

enum { OV_OK = 0, OV_TRUNCATED = 1, OV_ERROR = 2, OV_MISMATCH = 3 };

struct ov_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int code;
    char *message;
    int message_length;
};

static void ov_fail(j_common_ptr info, int code) {
    struct ov_error *error = (struct ov_error *)info->err;
    error->code = code;
    if (error->message_length > 0) {
        char text[JMSG_LENGTH_MAX];
        info->err->format_message(info, text);
        strncpy(error->message, text, (size_t)error->message_length - 1);
        error->message[error->message_length - 1] = 0;
    }
    longjmp(error->jump, 1);
}

static void ov_error_exit(j_common_ptr info) { ov_fail(info, OV_ERROR); }

/* Warnings are ignored, as Pillow ignores them, except running out of data: Pillow raises "image file is truncated". */
static void ov_emit_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) ov_fail(info, OV_TRUNCATED);
}

static void ov_output_message(j_common_ptr info) { (void)info; }

/* Decodes to `components` bytes per pixel (1: grey, 3: RGB) into `pixels` (width * height * components bytes).
   The frame must be width x height with that many components, as the caller read from the frame header. */
int ov_jpeg_decode(const unsigned char *data, unsigned long size, unsigned char *pixels, int width, int height,
                   int components, char *message, int message_length) {
    struct jpeg_decompress_struct info;
    struct ov_error error;
    memset(&info, 0, sizeof info);
    info.err = jpeg_std_error(&error.base);
    error.base.error_exit = ov_error_exit;
    error.base.emit_message = ov_emit_message;
    error.base.output_message = ov_output_message;
    error.code = OV_OK;
    error.message = message;
    error.message_length = message_length;
    if (message_length > 0) message[0] = 0;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        return error.code;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    if ((int)info.image_width != width || (int)info.image_height != height || info.num_components != components) {
        jpeg_destroy_decompress(&info);
        return OV_MISMATCH;
    }
    info.out_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    info.dct_method = JDCT_ISLOW;
    info.do_fancy_upsampling = TRUE;
    info.scale_num = info.scale_denom = 1;
    jpeg_start_decompress(&info);
    if ((int)info.output_width != width || (int)info.output_height != height || info.output_components != components) {
        jpeg_destroy_decompress(&info);
        return OV_MISMATCH;
    }
    size_t stride = (size_t)width * (size_t)components;
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * stride;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return OV_OK;
}
