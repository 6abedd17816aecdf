import CZlib

/// gzip (RFC 1952) with zlib, for layer blobs (media type ...layer.v1.tar+gzip). Compression is
/// level 6 with zlib's defaults, in one call, so a layer tar always gives the same blob with the
/// same zlib; the diff_id (the sha256 of the tar itself) is what names a layer's content.
enum Gzip {
  struct Failure: Error, Equatable {
    var reason: String
  }

  static func compress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
    var stream = z_stream()
    guard bw_deflate_init_gzip(&stream, 6) == Z_OK else { throw Failure(reason: "deflateInit2 failed") }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
    // zlib only reads through next_in (its type is not const): the caller's bytes are handed
    // over as they are, not copied into an array of this function's own first.
    let status: Int32 = input.withUnsafeBufferPointer { inBuf in
      output.withUnsafeMutableBufferPointer { outBuf in
        stream.next_in = inBuf.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
        stream.avail_in = uInt(inBuf.count)
        stream.next_out = outBuf.baseAddress
        stream.avail_out = uInt(outBuf.count)
        return deflate(&stream, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END else { throw Failure(reason: "deflate returned \(status)") }
    return Array(output.prefix(Int(stream.total_out)))
  }

  /// Refuses output past `limit` bytes: a small blob can inflate to gigabytes (a "gzip bomb").
  static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
    var stream = z_stream()
    guard bw_inflate_init_gzip(&stream) == Z_OK else { throw Failure(reason: "inflateInit2 failed") }
    defer { inflateEnd(&stream) }
    var input = input
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var status: Int32 = Z_OK
    input.withUnsafeMutableBufferPointer { inBuf in
      stream.next_in = inBuf.baseAddress
      stream.avail_in = uInt(inBuf.count)
      while status == Z_OK && output.count <= limit {
        let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
          stream.next_out = outBuf.baseAddress
          stream.avail_out = uInt(outBuf.count)
          status = inflate(&stream, Z_NO_FLUSH)
          return outBuf.count - Int(stream.avail_out)
        }
        output += chunk.prefix(produced)
        if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
      }
    }
    guard output.count <= limit else { throw Failure(reason: "it inflates to more than \(limit >> 20) MiB") }
    guard status == Z_STREAM_END else { throw Failure(reason: "not a complete gzip stream (zlib status \(status))") }
    return output
  }
}
