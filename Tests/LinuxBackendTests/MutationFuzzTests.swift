import Foundation
import Glibc
import Kernel
import Lab
import Testing

@testable import LinuxBackend
@testable import OCI

/// A mutation fuzzer for every parser of data from outside boxwalk: a registry's HTTP answers
/// and chunked bodies (SwiftNIO's decoder, as boxwalk drives it), layer tars (PAX headers, long names), gzip, JSON, OCI documents, and the
/// transcript and lesson files a teacher or a learner hands over. Each starts from valid inputs
/// built here (or the repository's own transcripts and lessons) and feeds the parser a few
/// thousand mutants: bit flips, bytes inserted and deleted, numbers replaced by ones that have
/// broken parsers before (-1, 0x7fffffff, 7fffffffffffffff, 2^64-1, twenty nines), NUL, CR and
/// LF variations, pieces of the input spliced elsewhere, truncation.
///
/// What must hold: the parser returns or throws its own error; it never traps. A trap (an
/// overflow, a slice out of range) kills the test process, so the run itself shows it; the
/// seed is fixed, so a failure reproduces, and the case number in the message locates it.
/// Where it is cheap, a property is checked too (what we wrote reads back as written).
/// Each parser gets a bounded number of mutants, a few seconds in all in a debug build.
@Suite struct MutationFuzzTests {
  // MARK: The mutator

  // The generator is Kernel's SplitMix64: one copy, the same sequence everywhere.

  /// Values that have broken parsers before: signs, limits of 32 and 64 bits in decimal and
  /// hex, long digit runs, and the bytes that end lines, fields and strings.
  static let interesting: [[UInt8]] =
    [
      "-1", "0", "-0", "+1", "1", "0x7fffffff", "2147483647", "2147483648", "4294967295", "4294967296",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551615",
      "99999999999999999999", "7fffffffffffffff", "7ffffffffffffffe", "ffffffffffffffff", "10000000000000000",
      "77777777777", "1e308", "1e-400", "NaN", "\0", "\r\n", "\n", "\r", "\r\n\r\n", "\n\n", " ", "\t", ";", ":",
      "=", "\"", "\\", "\\u0000", "\\ud800", "\\u", "{", "}", "[", "]", ",", "/", "../", "./", "//", "%",
      "{{", "}}", "#", "  boxwalk> ", "```", "---",
    ].map { Array($0.utf8) } + [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80]]

  static let numbers = Array(interesting.prefix(20))

  struct Mutator {
    var rng: SplitMix64
    let seeds: [[UInt8]]

    init(seed: UInt64, seeds: [[UInt8]]) {
      rng = SplitMix64(state: seed)
      self.seeds = seeds
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    /// A seed with one to six mutations.
    mutating func next() -> [UInt8] {
      var out = seeds[int(0...seeds.count - 1)]
      for _ in 0..<int(1...6) { mutate(&out) }
      return out
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
      let at = int(0...bytes.count)
      switch int(0...9) {
      case 0, 1:  // flip a bit
        guard !bytes.isEmpty else { return }
        bytes[min(at, bytes.count - 1)] ^= UInt8(1) << UInt8(int(0...7))
      case 2:  // insert a random byte
        bytes.insert(UInt8(int(0...255)), at: at)
      case 3:  // delete a range
        bytes.removeSubrange(at..<min(bytes.count, at + int(1...16)))
      case 4:  // overwrite with an interesting value
        let value = Self.pick(MutationFuzzTests.interesting, &rng)
        for (i, b) in value.enumerated() where at + i < bytes.count { bytes[at + i] = b }
      case 5:  // insert an interesting value
        bytes.insert(contentsOf: Self.pick(MutationFuzzTests.interesting, &rng), at: at)
      case 6, 7:  // replace a run of digits (a length, a size, a count) with an interesting number
        guard
          var start = bytes[min(at, bytes.count)...].firstIndex(where: Self.isDigit)
            ?? bytes.firstIndex(where: Self.isDigit)
        else { return }
        while start > 0 && Self.isDigit(bytes[start - 1]) { start -= 1 }
        var end = start
        while end < bytes.count && Self.isDigit(bytes[end]) { end += 1 }
        bytes.replaceSubrange(start..<end, with: Self.pick(MutationFuzzTests.numbers, &rng))
      case 8:  // splice a piece of this or another seed
        let other = Self.pick(seeds, &rng)
        guard !other.isEmpty else { return }
        let from = int(0...other.count - 1)
        bytes.insert(contentsOf: other[from..<min(other.count, from + int(1...64))], at: at)
      default:  // truncate
        bytes.removeSubrange(at...)
      }
    }

    static func isDigit(_ b: UInt8) -> Bool { (48...57).contains(b) || (97...102).contains(b) }

    static func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T {
      items[Int.random(in: 0..<items.count, using: &rng)]
    }
  }

  /// Runs `body` on `count` mutants of `seeds`; `body` may throw (that is the parser's error and
  /// fine) and must not trap. Returns how many mutants were accepted (did not throw), so a test
  /// can check that both outcomes happen.
  @discardableResult
  static func fuzz(
    _ seeds: [[UInt8]], count: Int, seed: UInt64, _ body: (_ input: [UInt8], _ index: Int) throws -> Void
  ) -> (accepted: Int, refused: Int) {
    var mutator = Mutator(seed: seed, seeds: seeds)
    var accepted = 0
    for i in 0..<count {
      let input = mutator.next()
      if (try? body(input, i)) != nil { accepted += 1 }
    }
    return (accepted, count - accepted)
  }

  // MARK: HTTP

  static let httpSeeds: [[UInt8]] = [
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\n{\"a\":1}",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\n\r\n",
    "HTTP/1.1 404 Not Found\r\nContent-Length: 52\r\n\r\n{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"x\"}]}",
    "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:5000/v2/x/blobs/y\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.0 202 Accepted\r\nLocation: /v2/x/blobs/uploads/1?state=a\r\n\r\n",
  ].map { Array($0.utf8) }

  @Test func httpAnswersNeverTrap() {
    let outcome = Self.fuzz(Self.httpSeeds, count: 4000, seed: 0x4854_5450) { raw, i in
      let r = try HTTPClient.parse(raw, method: i % 7 == 0 ? "HEAD" : "GET", target: "/v2/x", limit: 1 << 12)
      #expect((100...999).contains(r.status), "case \(i)")
      #expect(r.body.count <= 1 << 12, "case \(i)")
      if r.status == 404 { _ = ServerRegistry.failure(r, "GET /v2/x") }
      if let location = r.header("Location") { _ = try? ServerRegistry.path(of: location) }
    }
    #expect(outcome.accepted > 200 && outcome.refused > 200, "\(outcome)")
  }

  /// Chunked bodies, mutated after a fixed head: SwiftNIO's decoder reads them; what it accepts
  /// stays within the limit.
  @Test func chunkedBodiesNeverTrapAndGoodOnesDecode() throws {
    let head = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    let seeds: [[UInt8]] = [
      "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\n\r\n", "0\r\n\r\n", "10\r\n0123456789abcdef\r\n0\r\n\r\n",
    ]
    .map { Array($0.utf8) }
    let parse = { (body: [UInt8]) throws(RegistryError) in
      try HTTPClient.parse(head + body, method: "GET", target: "/v2/x", limit: 64).body
    }
    #expect(try parse(seeds[0]) == Array("abcdefg".utf8))
    let outcome = Self.fuzz(seeds, count: 4000, seed: 0x4348_554E) { data, i in
      let body = try parse(data)
      #expect(body.count <= 64, "case \(i)")
    }
    #expect(outcome.accepted > 100 && outcome.refused > 100, "\(outcome)")
  }

  // MARK: Layer tars and gzip

  static let tarLayers: [LayerContents] = [
    LayerContents([
      LayerEntry(path: "/etc", kind: .directory(opaque: false), mode: 0o755),
      LayerEntry(path: "/etc/hostname", kind: .file(Array("box\n".utf8)), mode: 0o644),
      LayerEntry(path: "/bin/sh", kind: .symlink(target: "busybox"), mode: 0o777),
      LayerEntry(path: "/old", kind: .whiteout, mode: 0),
    ]),
    LayerContents([
      // Longer than ustar's 100-byte name with no slash to split at: a PAX path record.
      LayerEntry(path: "/" + String(repeating: "n", count: 140), kind: .file([1, 2, 3]), mode: 0o600),
      // Long, but splits into a 155-byte prefix and a name.
      LayerEntry(
        path: "/" + String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/f",
        kind: .file(Array(repeating: 7, count: 700)), mode: 0o644),
      LayerEntry(path: "/link", kind: .symlink(target: "/" + String(repeating: "t/", count: 70)), mode: 0o777),
      LayerEntry(path: "/opaque", kind: .directory(opaque: true), mode: 0o700),
      LayerEntry(path: "/é ü", kind: .file([]), mode: 0o4755),
    ]),
    // Small tars that are mostly PAX headers, so mutants often land in a PAX record.
    LayerContents([LayerEntry(path: "/" + String(repeating: "p", count: 101), kind: .file([]), mode: 0o644)]),
    LayerContents([
      LayerEntry(path: "/l", kind: .symlink(target: String(repeating: "../x/", count: 21)), mode: 0o777)
    ]),
  ]

  /// Recomputes the checksum of every block that looks like a ustar header, so a mutant gets
  /// past the checksum to the fields behind it.
  static func fixChecksums(_ tar: [UInt8]) -> [UInt8] {
    var out = tar
    var offset = 0
    while offset + 512 <= out.count {
      if out[(offset + 257)..<(offset + 262)].elementsEqual("ustar".utf8) {
        for i in 148..<156 { out[offset + i] = 32 }
        let sum = out[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: 48, count: max(0, 6 - digits.count)) + digits.suffix(6)
        for (i, b) in field.enumerated() { out[offset + 148 + i] = b }
        out[offset + 154] = 0
      }
      offset += 512
    }
    return out
  }

  @Test func layerTarsReadBackAsWrittenAndMutantsNeverTrap() throws {
    for layer in Self.tarLayers {
      var expected = layer
      expected.normalize()
      #expect(try LayerTar.read(LayerTar.write(layer)) == expected)
    }
    let seeds = Self.tarLayers.map { LayerTar.write($0) }
    let outcome = Self.fuzz(seeds, count: 3000, seed: 0x5441_5200) { tar, i in
      let candidate = i % 3 == 0 ? tar : Self.fixChecksums(tar)
      let layer = try LayerTar.read(candidate)
      // Whatever is accepted stays inside the layer: absolute, no "..", no empty component.
      for path in layer.sortedPaths { #expect(BoxPath.problem(path) == nil, "case \(i): \(path)") }
    }
    #expect(outcome.accepted > 100 && outcome.refused > 100, "\(outcome)")
  }

  /// The writer's inputs come from a box (commit): any name a file system holds. Random layers
  /// with odd names (spaces, newlines, backslashes, non-ASCII, components up to 120 bytes, so
  /// paths that need the ustar prefix or a PAX record), every mode bit, long link targets: the
  /// writer never traps and the reader gives back exactly what was written.
  @Test func anyLayerABoxCanMakeIsWrittenAndReadBack() throws {
    var rng = SplitMix64(state: 0x5752_4954)
    let alphabet: [String] = [
      "a", "b", "z", "0", "9", " ", "\n", "\t", "\\", "=", "%", "é", "ü", "日", "😀", "-", "_", ":", "~",
    ]
    func component() -> String {
      var name = ""
      for _ in 0..<Int.random(in: 1...120, using: &rng) {
        name += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
      }
      // ".", ".." and ".wh." names are not what a layer can hold as plain files.
      return name == "." || name == ".." || name.hasPrefix(".wh.") ? "x" + name : name
    }
    for round in 0..<250 {
      var entries: [LayerEntry] = []
      for _ in 0..<Int.random(in: 1...6, using: &rng) {
        let path = "/" + (0..<Int.random(in: 1...4, using: &rng)).map { _ in component() }.joined(separator: "/")
        let kind: LayerEntryKind
        let mode: UInt32
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
          kind = .directory(opaque: Bool.random(using: &rng))
          mode = UInt32.random(in: 0...0o7777, using: &rng)
        case 1:
          kind = .symlink(
            target: (0..<Int.random(in: 1...3, using: &rng)).map { _ in component() }.joined(separator: "/"))
          mode = 0o777
        case 2:
          kind = .whiteout
          mode = 0
        default:
          kind = .file((0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
          mode = UInt32.random(in: 0...0o7777, using: &rng)
        }
        entries.append(LayerEntry(path: path, kind: kind, mode: mode))
      }
      var layer = LayerContents(entries)
      layer.normalize()
      let tar = LayerTar.write(layer)
      #expect(tar.count % 512 == 0, "round \(round)")
      let back = try LayerTar.read(tar)
      #expect(back == layer, "round \(round): \(layer.sortedPaths.map { JSON.quote($0) })")
    }
  }

  @Test func gzipMutantsNeverTrapAndStayUnderTheLimit() throws {
    let seeds = try Self.tarLayers.map { try Gzip.compress(LayerTar.write($0)) } + [try Gzip.compress([])]
    for (layer, blob) in zip(Self.tarLayers, seeds) {
      #expect(try Gzip.decompress(blob, limit: 1 << 20) == LayerTar.write(layer))
    }
    let outcome = Self.fuzz(seeds, count: 3000, seed: 0x475A_4950) { blob, i in
      let tar = try Gzip.decompress(blob, limit: 1 << 16)
      #expect(tar.count <= 1 << 16, "case \(i)")
      _ = try? LayerTar.read(tar)
    }
    #expect(outcome.refused > 100, "\(outcome)")
  }

  // MARK: JSON and OCI documents

  static var ociSeeds: [[UInt8]] {
    let layer = Descriptor(
      mediaType: MediaType.layerGzip, digest: SHA256.digest(Array("layer".utf8)), size: 1234,
      annotations: [(Annotation.layerName, "site:v1")])
    let config = ImageConfig(architecture: "amd64", diffIDs: [SHA256.digest(Array("tar".utf8))])
    let manifest = Manifest(
      config: Descriptor(mediaType: MediaType.config, digest: SHA256.digest(config.json.encoded()), size: 99),
      layers: [layer, layer])
    let index = ImageIndex(manifests: [
      Descriptor(
        mediaType: MediaType.manifest, digest: SHA256.digest(manifest.json.encoded()), size: 300,
        annotations: [(Annotation.refName, "site:v1")])
    ])
    return [config.json.encoded(), manifest.json.encoded(), index.json.encoded()]
      + [
        "{\"a\":[1,-2,3.5,1e3,true,false,null,\"\\u00e9\\n\\\"\"],\"b\":{}}", "[[[[[[[[[[]]]]]]]]]]",
        "\"\\ud83d\\ude00\"", "-0.0e-0",
      ].map { Array($0.utf8) }
  }

  @Test func jsonMutantsNeverTrapAndWhatParsesReencodesStably() {
    let outcome = Self.fuzz(Self.ociSeeds, count: 5000, seed: 0x4A53_4F4E) { bytes, i in
      let value = try JSONValue.parse(bytes)
      // What we parse, we write; and what we write parses to the same value.
      let again = try JSONValue.parse(value.encoded())
      #expect(again == value, "case \(i)")
    }
    #expect(outcome.accepted > 300 && outcome.refused > 300, "\(outcome)")
  }

  @Test func ociDocumentMutantsNeverTrap() throws {
    for seed in Self.ociSeeds.prefix(3) { #expect(throws: Never.self) { try JSONValue.parse(seed) } }
    #expect(try Manifest(json: JSONValue.parse(Self.ociSeeds[1])).layers.count == 2)
    var decoded = 0
    Self.fuzz(Self.ociSeeds.prefix(3).map { $0 }, count: 5000, seed: 0x4F43_4900) { bytes, _ in
      let json = try JSONValue.parse(bytes)
      if (try? ImageConfig(json: json)) != nil { decoded += 1 }
      if let manifest = try? Manifest(json: json) {
        decoded += 1
        for d in [manifest.config] + manifest.layers {
          #expect(SHA256.isDigest(d.digest) && d.size >= 0)
        }
      }
      if let index = try? ImageIndex(json: json) {
        decoded += 1
        _ = index.manifest(named: "site:v1")
      }
    }
    #expect(decoded > 100, "\(decoded) documents decoded")
  }

  // MARK: Transcripts and lessons

  static let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  static func files(_ dir: String, _ suffix: String, except: Set<String> = []) -> [[UInt8]] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot + "/" + dir)) ?? []
    return names.filter { $0.hasSuffix(suffix) && !except.contains($0) }.sorted().compactMap {
      FileManager.default.contents(atPath: packageRoot + "/" + dir + "/" + $0).map { [UInt8]($0) }
    }
  }

  /// Windows of a few dozen lines: short inputs reach as deep and parse faster.
  static func windows(_ files: [[UInt8]], lines: Int) -> [[UInt8]] {
    files.flatMap { file -> [[UInt8]] in
      let all = file.split(separator: 10, omittingEmptySubsequences: false)
      return stride(from: 0, to: all.count, by: lines).map {
        Array(all[$0..<min(all.count, $0 + lines)].joined(separator: [10]))
      }
    }
  }

  @Test func transcriptMutantsNeverTrapAndErrorsNameTheirPlace() throws {
    let seeds = Self.files("transcripts", ".transcript")
    try #require(seeds.count >= 5, "the repository's transcripts are the seeds")
    for seed in seeds {
      #expect(throws: Never.self) { try TranscriptFile.parse(path: "t", text: String(decoding: seed, as: UTF8.self)) }
    }
    let outcome = Self.fuzz(Self.windows(seeds, lines: 40), count: 3000, seed: 0x5452_414E) { bytes, i in
      do throws(TranscriptParseError) {
        _ = try TranscriptFile.parse(path: "fuzz.transcript", text: String(decoding: bytes, as: UTF8.self))
      } catch {
        #expect(error.description.hasPrefix("fuzz.transcript:\(error.line):\(error.column): "), "case \(i)")
        throw error
      }
    }
    #expect(outcome.accepted > 100 && outcome.refused > 100, "\(outcome)")
  }

  @Test func lessonMutantsNeverTrap() throws {
    // Every lesson file, and not lessons/README.md: the instructor's guide is not a lesson, and
    // the catalog skips it the same way.
    let seeds = Self.files("lessons", ".md", except: ["README.md"])
    try #require(!seeds.isEmpty, "the repository's lessons are the seeds")
    for seed in seeds {
      #expect(throws: Never.self) { try Lesson.parse(path: "l.md", text: String(decoding: seed, as: UTF8.self)) }
    }
    let outcome = Self.fuzz(seeds, count: 800, seed: 0x4C45_5353) { bytes, _ in
      _ = try Lesson.parse(path: "fuzz.md", text: String(decoding: bytes, as: UTF8.self))
    }
    #expect(outcome.accepted > 20 && outcome.refused > 100, "\(outcome)")
  }

  /// Progress files live in the learner's state directory, where anything may have written.
  @Test func progressFileMutantsNeverTrapAndGoodOnesRoundTrip() {
    let saved = [
      LessonProgress(lesson: "01-uts", step: "hostname", labDone: true, hintsShown: 2),
      LessonProgress(lesson: "02-pid", step: nil, finished: true),
      LessonProgress(
        lesson: "03-ipc", step: "shm", hintsShown: 1,
        records: [
          LessonStepRecord(
            step: "mq", started: 1_700_000_000, passed: 1_700_000_090, hints: 2, solutions: 1, checksFailed: 3),
          LessonStepRecord(step: "shm", started: 1_700_000_100),
        ]),
    ]
    for progress in saved { #expect(LessonProgress.decode(progress.encoded) == progress) }
    Self.fuzz(saved.map { Array($0.encoded.utf8) }, count: 2000, seed: 0x5052_4F47) { bytes, i in
      guard let progress = LessonProgress.decode(String(decoding: bytes, as: UTF8.self)) else { return }
      #expect(progress.hintsShown >= 0, "case \(i)")
      #expect(LessonProgress.decode(progress.encoded) == progress, "case \(i)")
    }
  }
}
