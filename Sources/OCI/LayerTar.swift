import Kernel

/// OCI layer tars (OCI image spec, layer.md): writing them reproducibly, reading them carefully.
///
/// Writing: entries sorted by path, every mtime 0, uid and gid 0, no user or group names, no
/// extended attributes, POSIX ustar headers (a PAX header for a path longer than ustar holds). So
/// the same files always make the same bytes, and the same sha256, on every machine and on both
/// kernels. Whiteouts become the OCI form: an empty file `.wh.NAME` beside what it hides, and an
/// opaque directory gets an empty `.wh..wh..opq` inside it.
///
/// Reading refuses what could reach outside the layer or fill the disk (docs/security.md,
/// "The image store"): absolute paths are made relative, `..` is an error, hard links and device
/// files are refused, and sizes are capped.
public enum LayerTar {
  public static let whiteoutPrefix = ".wh."
  public static let opaqueMarker = ".wh..wh..opq"
  /// Caps on what one layer may hold.
  public static let maxTotalBytes = 512 << 20
  public static let maxEntries = 100_000

  public struct ReadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }

  /// The tar of a layer. The root directory itself is not an entry.
  public static func write(_ layer: LayerContents) -> [UInt8] {
    // Counted first, so the array is made once at its size, not grown by doubling (a 2 MB
    // layer left 4 MB allocated).
    var count = 0
    write(layer) { count += $0.count }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    write(layer) { out += $0 }
    return out
  }

  /// The diff_id of a layer (OCI image spec, config.md): the sha256 of its tar, hashed as the tar
  /// is written, a piece at a time. The tar itself is never held: for the busybox layer it was a
  /// 2 MB array grown by doubling (4 MB) and copied once more, made by every new session
  /// (BENCHMARKS.md, the REPL's memory).
  public static func diffID(_ layer: LayerContents) -> String {
    var hash = SHA256()
    write(layer) { hash.update($0) }
    return "sha256:" + SHA256.hex(hash.finish())
  }

  /// The tar's bytes in order, in pieces: a header, a file's data, its padding.
  static func write(_ layer: LayerContents, to emit: (ArraySlice<UInt8>) -> Void) {
    let zeros = [UInt8](repeating: 0, count: 1024)
    for r in records(layer) {
      var h = r.header
      h.name = r.name
      emit(h.encoded()[...])
      emit(r.data[...])
      emit(zeros[..<((512 - r.data.count % 512) % 512)])
    }
    emit(zeros[...])
  }

  /// The names of the tar's entries, in order (what `tar -t` lists).
  public static func entryNames(_ layer: LayerContents) -> [String] { records(layer).map(\.name) }

  static func records(_ layer: LayerContents) -> [(name: String, header: Header, data: [UInt8])] {
    var records: [(name: String, header: Header, data: [UInt8])] = []
    for path in layer.sortedPaths {
      guard let e = layer[path] else { continue }
      let rel = String(path.dropFirst())
      switch e.kind {
      case .directory(let opaque):
        records.append((rel + "/", Header(type: "5", mode: e.mode), []))
        if opaque { records.append((rel + "/" + opaqueMarker, Header(type: "0", mode: 0), [])) }
      case .file(let bytes):
        records.append((rel, Header(type: "0", mode: e.mode, size: bytes.count), bytes))
      case .symlink(let target):
        records.append((rel, Header(type: "2", mode: e.mode, link: target), []))
      case .whiteout:
        let parent = Overlay.parent(of: path)
        let name = (parent == "/" ? "" : String(parent.dropFirst()) + "/") + whiteoutPrefix + Overlay.baseName(path)
        records.append((name, Header(type: "0", mode: 0), []))
      case .special:
        // FIFOs, sockets and device nodes are listed in a box's state but are no layer content:
        // the readers of import and commit refuse them before a tar is made.
        continue
      }
    }
    records.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    return records
  }

  /// The layer a tar describes, whiteouts turned back into `.whiteout` entries and opaque markers
  /// into opaque directories.
  public static func read(_ tar: [UInt8]) throws(ReadError) -> LayerContents {
    var layer = LayerContents()
    var offset = 0
    var paxPath: String?
    var paxLink: String?
    var count = 0
    var total = 0
    var opaque: [String] = []
    while offset + 512 <= tar.count {
      let block = tar[offset..<offset + 512]
      if block.allSatisfy({ $0 == 0 }) { break }
      guard checksumMatches(block) else { throw ReadError(reason: "bad header checksum at byte \(offset)") }
      let type = block[block.startIndex + 156]
      let size = try octal(block, 124, 12)
      total += size
      count += 1
      guard count <= maxEntries else { throw ReadError(reason: "more than \(maxEntries) entries") }
      guard total <= maxTotalBytes else { throw ReadError(reason: "more than \(maxTotalBytes >> 20) MiB of content") }
      let dataStart = offset + 512
      guard dataStart + size <= tar.count else { throw ReadError(reason: "the tar ends inside an entry") }
      let data = Array(tar[dataStart..<dataStart + size])
      offset = dataStart + (size + 511) / 512 * 512
      switch type {
      case UInt8(ascii: "x"):
        let records = try pax(data)
        paxPath = records["path"]
        paxLink = records["linkpath"]
        continue
      case UInt8(ascii: "g"):
        continue
      default: break
      }
      let name = entryName(block, pax: paxPath)
      let link = paxLink ?? string(block, 157, 100) ?? ""
      paxPath = nil
      paxLink = nil
      if name.isEmpty || name == "." { continue }
      let path = "/" + name
      if let problem = BoxPath.problem(path) { throw ReadError(reason: "entry \(JSON.quote(name)): \(problem)") }
      let mode = UInt32(try octal(block, 100, 8) & 0o7777)
      let base = Overlay.baseName(path)
      if base == opaqueMarker {
        opaque.append(Overlay.parent(of: path))
        continue
      }
      if base.hasPrefix(whiteoutPrefix) {
        let hidden = try hiddenPath(path, base: base, name: name)
        layer[hidden] = LayerEntry(path: hidden, kind: .whiteout, mode: 0)
        continue
      }
      layer[path] = try entry(type, path: path, name: name, data: data, mode: mode, link: link)
    }
    for dir in opaque {
      if dir == "/" { continue }
      let mode = layer[dir]?.mode ?? 0o755
      layer[dir] = LayerEntry(path: dir, kind: .directory(opaque: true), mode: mode)
    }
    layer.normalize()
    return layer
  }

  /// An entry's name: the pax header's `path` when one came before it, else the ustar header's
  /// prefix and name fields (POSIX pax(1), "ustar Interchange Format"), without a leading `./`
  /// or `/` and a trailing `/`.
  static func entryName(_ block: ArraySlice<UInt8>, pax paxPath: String?) -> String {
    var name =
      paxPath ?? (string(block, 345, 155).map { $0.isEmpty ? "" : $0 + "/" } ?? "") + (string(block, 0, 100) ?? "")
    while name.hasPrefix("./") { name.removeFirst(2) }
    while name.hasPrefix("/") { name.removeFirst() }
    while name.hasSuffix("/") { name.removeLast() }
    return name
  }

  /// The path a whiteout entry hides (OCI image-spec layer.md, "Whiteouts"): `.wh.NAME` hides
  /// NAME beside it. The name it hides is checked like any entry's: a `.wh...` would otherwise
  /// be a whiteout of `..` (the parent directory), `.wh..` one of `.` and `.wh.` one of the empty
  /// name, none of which an overlay can hold.
  static func hiddenPath(_ path: String, base: String, name: String) throws(ReadError) -> String {
    let parent = Overlay.parent(of: path)
    let hiddenName = String(base.dropFirst(whiteoutPrefix.count))
    let hidden = (parent == "/" ? "/" : parent + "/") + hiddenName
    guard !hiddenName.isEmpty, hiddenName != ".", hiddenName != "..", BoxPath.problem(hidden) == nil else {
      throw ReadError(
        reason: "entry \(JSON.quote(name)): a whiteout of \(JSON.quote(hiddenName)), which is no name")
    }
    return hidden
  }

  /// The layer entry of one tar entry by its ustar type flag: a regular file ('0', NUL, or '7'
  /// for contiguous), a directory ('5') or a symbolic link ('2'). A hard link ('1') could name
  /// a file outside the layer, and devices, FIFOs and the rest are no layer content: refused.
  static func entry(
    _ type: UInt8, path: String, name: String, data: [UInt8], mode: UInt32, link: String
  ) throws(ReadError) -> LayerEntry {
    switch type {
    case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
      return LayerEntry(path: path, kind: .file(data), mode: mode)
    case UInt8(ascii: "5"):
      return LayerEntry(path: path, kind: .directory(opaque: false), mode: mode)
    case UInt8(ascii: "2"):
      guard !link.isEmpty, !link.contains("\0") else {
        throw ReadError(reason: "entry \(JSON.quote(name)): empty link target")
      }
      return LayerEntry(path: path, kind: .symlink(target: link), mode: 0o777)
    case UInt8(ascii: "1"):
      throw ReadError(
        reason:
          "entry \(JSON.quote(name)) is a hard link: boxwalk's layers hold none (a link could name a file outside the layer)"
      )
    default:
      throw ReadError(
        reason:
          "entry \(JSON.quote(name)) has type \(JSON.quote(String(UnicodeScalar(type)))): layers hold files, directories and symbolic links only"
      )
    }
  }

  // MARK: ustar

  struct Header {
    var name = ""
    var type: Character
    var mode: UInt32
    var size = 0
    var link = ""

    init(type: Character, mode: UInt32, size: Int = 0, link: String = "") {
      self.type = type
      self.mode = mode
      self.size = size
      self.link = link
    }

    /// One 512-byte header, preceded by a PAX header when the name or link does not fit.
    func encoded() -> [UInt8] {
      var out: [UInt8] = []
      var pax: [(String, String)] = []
      var shortName = Array(name.utf8)
      var prefix: [UInt8] = []
      if shortName.count > 100 {
        // ustar splits at a slash: up to 155 bytes of prefix, up to 100 of name.
        if let split = (0..<shortName.count).last(where: {
          shortName[$0] == UInt8(ascii: "/") && $0 <= 155 && shortName.count - $0 - 1 <= 100 && $0 > 0
        }) {
          prefix = Array(shortName[..<split])
          shortName = Array(shortName[(split + 1)...])
        } else {
          pax.append(("path", name))
          shortName = Array(shortName.prefix(100))
        }
      }
      if link.utf8.count > 100 { pax.append(("linkpath", link)) }
      if !pax.isEmpty {
        var body: [UInt8] = []
        for (k, v) in pax { body += Self.paxRecord(k, v) }
        var h = Header(type: "x", mode: 0o644, size: body.count)
        h.name = "PaxHeaders/" + String(decoding: shortName.suffix(80), as: UTF8.self)
        out += h.encoded()
        out += body
        out += [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
      }
      var b = [UInt8](repeating: 0, count: 512)
      func put(_ bytes: [UInt8], _ at: Int, _ width: Int) {
        for (i, c) in bytes.prefix(width).enumerated() { b[at + i] = c }
      }
      func octal(_ v: Int, _ at: Int, _ width: Int) {
        let digits = String(v, radix: 8)
        put(Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8), at, width - 1)
      }
      put(shortName, 0, 100)
      octal(Int(mode), 100, 8)
      octal(0, 108, 8)
      octal(0, 116, 8)
      octal(size, 124, 12)
      octal(0, 136, 12)
      put(Array(String(type).utf8), 156, 1)
      put(Array(link.utf8), 157, 100)
      put(Array("ustar\0".utf8), 257, 6)
      put(Array("00".utf8), 263, 2)
      put(prefix, 345, 155)
      for i in 148..<156 { b[i] = UInt8(ascii: " ") }
      let sum = b.reduce(0) { $0 + Int($1) }
      octal(sum, 148, 7)  // six digits, then NUL and space, as ustar writes a checksum
      b[154] = 0
      b[155] = UInt8(ascii: " ")
      return out + b
    }

    /// "LEN key=value\n", where LEN counts the whole record, itself included (pax(1)).
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
      let body = " \(key)=\(value)\n"
      var length = body.utf8.count + 1
      while String(length).utf8.count + body.utf8.count > length { length += 1 }
      return Array((String(length) + body).utf8)
    }
  }

  static func checksumMatches(_ block: ArraySlice<UInt8>) -> Bool {
    var sum = 0
    for (i, b) in block.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
    guard let stored = try? octal(block, 148, 8) else { return false }
    return stored == sum
  }

  static func octal(_ block: ArraySlice<UInt8>, _ at: Int, _ width: Int) throws(ReadError) -> Int {
    let start = block.startIndex + at
    var value = 0
    for b in block[start..<start + width] {
      if b == 0 || b == UInt8(ascii: " ") { if value > 0 { break } else { continue } }
      guard b >= 48 && b <= 55 else { throw ReadError(reason: "a header field is not octal") }
      value = value * 8 + Int(b - 48)
      guard value < 1 << 40 else { throw ReadError(reason: "a header number is too large") }
    }
    return value
  }

  static func string(_ block: ArraySlice<UInt8>, _ at: Int, _ width: Int) -> String? {
    let start = block.startIndex + at
    let field = block[start..<start + width].prefix { $0 != 0 }
    return String(validating: Array(field), as: UTF8.self)
  }

  /// The records of a PAX extended header (pax(1), "pax Header Block"): each is
  /// "LENGTH key=value\n", LENGTH in decimal counting the whole record, its own digits and the
  /// newline included. A length that does not fit what is left, or that ends the record before
  /// its key, is an error: it is how a hostile tar would make a reader slice backwards.
  static func pax(_ data: [UInt8]) throws(ReadError) -> [String: String] {
    let bad = ReadError(reason: "a malformed PAX extended header")
    var out: [String: String] = [:]
    var i = 0
    while i < data.count {
      guard let space = data[i...].firstIndex(of: UInt8(ascii: " ")),
        let length = ParsedNumber.decimal(data[i..<space], max: data.count - i),
        length >= space - i + 4,  // its digits, the space, "k=" at the least, and the newline
        data[i + length - 1] == UInt8(ascii: "\n")
      else { throw bad }
      let record = data[(space + 1)..<(i + length - 1)]
      guard let eq = record.firstIndex(of: UInt8(ascii: "=")), eq > record.startIndex else { throw bad }
      guard let key = String(validating: Array(record[..<eq]), as: UTF8.self),
        let value = String(validating: Array(record[(eq + 1)...]), as: UTF8.self)
      else { throw ReadError(reason: "a PAX extended header that is not UTF-8") }
      out[key] = value
      i += length
    }
    return out
  }
}
