import Testing

@testable import Kernel

/// File names are bytes; boxwalk shows them escaped, one-to-one, and plain text as typed.
@Suite struct FileNameTests {
  @Test(arguments: [
    ([UInt8]("motd".utf8), "motd"), (Array("café".utf8), "café"), ([0x61, 0xff, 0x62], "a\\xffb"),
    ([0x0a], "\\x0a"), ([0x7f], "\\x7f"), ([0xc3], "\\xc3"), ([0xc0, 0xaf], "\\xc0\\xaf"),
    ([0xed, 0xa0, 0x80], "\\xed\\xa0\\x80"), (Array("a\\b".utf8), "a\\b"), (Array("a\\\\b".utf8), "a\\\\\\b"),
    (Array("\\x41".utf8), "\\\\x41"), (Array("x\\".utf8), "x\\"),
    // Valid UTF-8 that would drive or reorder the terminal: a C1 control (U+009B, CSI) and the
    // bidirectional overrides and isolates, byte by byte.
    (Array("a\u{9B}b".utf8), "a\\xc2\\x9bb"), (Array("evil\u{202E}hs.txt".utf8), "evil\\xe2\\x80\\xaehs.txt"),
    (Array("\u{2066}x\u{2069}".utf8), "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9"), (Array("\u{200F}".utf8), "\\xe2\\x80\\x8f"),
    (Array("a\u{2028}b".utf8), "a\\xe2\\x80\\xa8b"),
  ])
  func namesAreEscapedOneToOne(_ bytes: [UInt8], _ shown: String) {
    #expect(FileName.escaped(bytes) == shown)
    #expect(FileName.bytes(shown) == bytes)
  }

  @Test func everyByteStringRoundTrips() {
    var generator = SystemRandomNumberGenerator()
    let alphabet: [UInt8] = [0x5c, 0x78, 0x41, 0x66, 0x30, 0xff, 0xc3, 0xa9, 0x0a, 0x61, 0xe2, 0x82, 0xac]
    for _ in 0..<2000 {
      let bytes = (0..<Int.random(in: 0...8, using: &generator)).map { _ in
        alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
      }
      #expect(FileName.bytes(FileName.escaped(bytes)) == bytes, "\(bytes)")
    }
  }
}
