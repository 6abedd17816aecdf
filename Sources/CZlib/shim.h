// zlib for boxwalk (Debian: zlib1g-dev). deflateInit2 and inflateInit2 are macros, which Swift
// cannot call: these inline functions wrap them. windowBits 15 + 16 asks zlib for the gzip
// wrapper (RFC 1952) instead of zlib's own (zlib.h, "deflateInit2").
#ifndef BOXWALK_CZLIB_SHIM_H
#define BOXWALK_CZLIB_SHIM_H
#include <zlib.h>

static inline int bw_deflate_init_gzip(z_streamp stream, int level) {
  return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int bw_inflate_init_gzip(z_streamp stream) {
  return inflateInit2(stream, 15 + 16);
}
#endif
