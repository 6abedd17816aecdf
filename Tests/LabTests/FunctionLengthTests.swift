import Foundation  // to walk the source tree
import Testing

/// No function in Sources/ grows past 90 lines. A long function is one whose parts have no names:
/// the reader has to find the sections by its comments and keep every local of the whole in mind
/// to change one. Split it along what it does (a section of a document, a subcommand, a route),
/// one function each with a doc comment that says what it does and why.
///
/// The scanner is deliberately small: it blanks out string literals (with their interpolations,
/// raw `#"..."#` and multi-line `"""` ones) and comments (`//`, nested `/* */`), matches the
/// braces that are left, and takes a block for a function body when the code just before its
/// `{` (back to the previous brace) ends in a declaration: `func NAME`, `init`, `deinit`,
/// `subscript`, or `var NAME: TYPE` on the brace's own line (a computed property). A body's
/// length is its lines from the declaration's keyword to its closing brace, both included.
@Suite struct FunctionLengthTests {
  static let limit = 90

  /// Functions allowed to be longer, by file (under Sources/) and function name. Empty: every
  /// function is split. Never add to it; if one must wait, name it here with the reason, and
  /// take it off when it is split (the test says when one is short enough).
  static let allowed: Set<String> = []

  /// A function (or computed property) body found in a file.
  struct Body: Equatable {
    var name: String
    /// The line of its declaration's keyword, from 1.
    var line: Int
    /// Lines from the keyword to the closing brace, both included.
    var length: Int
  }

  /// The source with every string literal and comment replaced by spaces (line breaks kept), so
  /// that what is left of its braces are the code's.
  static func code(_ text: String) -> [UInt8] {
    enum Context {
      /// Code: of the file, or of an interpolation `\(...)` (which ends at the `)` that closes
      /// it, at parenthesis depth 0).
      case code(parens: Int, interpolation: Bool)
      /// A string literal with `hashes` `#` around it, on one line or in `"""`.
      case string(hashes: Int, multiline: Bool)
    }
    let bytes = Array(text.utf8)
    var out = bytes
    var stack: [Context] = [.code(parens: 0, interpolation: false)]
    let quote = UInt8(ascii: "\""), hash = UInt8(ascii: "#"), slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
    let backslash = UInt8(ascii: "\\"), newline = UInt8(ascii: "\n"), space = UInt8(ascii: " ")
    func at(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }
    func blank(_ range: Range<Int>) {
      for k in range where k < bytes.count && bytes[k] != newline { out[k] = space }
    }
    /// Whether `count` `#` follow position `i`.
    func hashes(_ count: Int, after i: Int) -> Bool { (0..<count).allSatisfy { at(i + $0) == hash } }
    var i = 0
    while i < bytes.count, let context = stack.last {
      let c = bytes[i]
      switch context {
      case .code(let parens, let interpolation):
        let inString = interpolation  // an interpolation's code is part of its string: blanked too
        if c == slash && at(i + 1) == slash {
          var end = i
          while end < bytes.count && bytes[end] != newline { end += 1 }
          blank(i..<end)
          i = end
        } else if c == slash && at(i + 1) == star {
          var depth = 0
          var end = i
          repeat {
            if at(end) == slash && at(end + 1) == star {
              depth += 1
              end += 2
            } else if at(end) == star && at(end + 1) == slash {
              depth -= 1
              end += 2
            } else {
              end += 1
            }
          } while depth > 0 && end < bytes.count
          blank(i..<end)
          i = end
        } else if c == quote || c == hash {
          var count = 0
          while at(i + count) == hash { count += 1 }
          guard at(i + count) == quote else {  // `#if`, `#filePath`: code
            if inString { blank(i..<i + count) }
            i += count
            continue
          }
          let multiline = at(i + count + 1) == quote && at(i + count + 2) == quote
          let end = i + count + (multiline ? 3 : 1)
          blank(i..<end)
          stack.append(.string(hashes: count, multiline: multiline))
          i = end
        } else if c == UInt8(ascii: "(") {
          stack[stack.count - 1] = .code(parens: parens + 1, interpolation: interpolation)
          if inString { blank(i..<i + 1) }
          i += 1
        } else if c == UInt8(ascii: ")") && interpolation && parens == 0 {
          stack.removeLast()
          blank(i..<i + 1)
          i += 1
        } else {
          if c == UInt8(ascii: ")") { stack[stack.count - 1] = .code(parens: parens - 1, interpolation: interpolation) }
          if inString { blank(i..<i + 1) }
          i += 1
        }
      case .string(let count, let multiline):
        if c == backslash && hashes(count, after: i + 1) {
          // An escape: `\(` (with the literal's `#`s between) opens an interpolation.
          let escaped = i + 1 + count
          if at(escaped) == UInt8(ascii: "(") {
            blank(i..<escaped + 1)
            stack.append(.code(parens: 0, interpolation: true))
          } else {
            blank(i..<escaped + 1)
          }
          i = escaped + 1
        } else if c == quote && (!multiline || (at(i + 1) == quote && at(i + 2) == quote)) {
          let close = i + (multiline ? 3 : 1)
          if hashes(count, after: close) {
            blank(i..<close + count)
            stack.removeLast()
            i = close + count
          } else {
            blank(i..<i + 1)
            i += 1
          }
        } else {
          blank(i..<i + 1)
          i += 1
        }
      }
    }
    return out
  }

  /// A declaration keyword, not part of a longer word or a member (`.init`, `self.init`).
  static let keyword = #"(?<![\w.$])(func|init|deinit|subscript|var|let)(?![\w$])"#
  static let funcName = #"^func\s+[^\s(<]+"#
  /// `var NAME: TYPE` up to the brace, on one line: a computed property (an `=` would make the
  /// braces an initial value's closure or observers of a stored one).
  static let computedVar = #"^var\s+\w+\s*:[^=\n]*$"#

  /// Every function, initialiser, subscript and computed property body in a file's text.
  static func bodies(in text: String) -> [Body] {
    let mask = code(text)
    var lineStarts = [0]
    for (k, b) in mask.enumerated() where b == UInt8(ascii: "\n") { lineStarts.append(k + 1) }
    func line(_ offset: Int) -> Int {
      var low = 0
      var high = lineStarts.count - 1
      while low < high {
        let mid = (low + high + 1) / 2
        if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
      }
      return low + 1
    }
    var found: [Body] = []
    // Open blocks: where the brace is, where the code before it starts (just after the previous
    // brace), and the parenthesis depth at it. A block in parentheses (a closure argument, a
    // default value) is part of the code around it: the header of what follows goes on past it.
    var open: [(brace: Int, headerStart: Int, parens: Int)] = []
    var headerStart = 0
    var parens = 0
    for (k, b) in mask.enumerated() {
      switch b {
      case UInt8(ascii: "("): parens += 1
      case UInt8(ascii: ")"): parens -= 1
      case UInt8(ascii: "{"):
        open.append((k, headerStart, parens))
        headerStart = k + 1
      case UInt8(ascii: "}"):
        guard let block = open.popLast() else { continue }
        let inParentheses = block.parens > (open.last?.parens ?? 0)
        headerStart = inParentheses ? block.headerStart : k + 1
        if inParentheses { continue }
        let header = String(decoding: mask[block.headerStart..<block.brace], as: UTF8.self)
        guard let (name, start) = declared(header) else { continue }
        let first = line(block.headerStart + start)
        found.append(Body(name: name, line: first, length: line(k) - first + 1))
      default: continue
      }
    }
    return found.sorted { $0.line < $1.line }
  }

  /// The name a block's header (the code between the previous brace and its own) declares a
  /// body for, and the byte offset of its keyword in the header; nil when the last declaration
  /// keyword there is not one that has a body in these braces.
  static func declared(_ header: String) -> (String, Int)? {
    var last: Range<String.Index>?
    var from = header.startIndex
    while let match = header.range(of: keyword, options: .regularExpression, range: from..<header.endIndex) {
      last = match
      from = match.upperBound
    }
    guard let last else { return nil }
    let rest = header[last.lowerBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    let offset = header.utf8.distance(from: header.startIndex, to: last.lowerBound)
    switch header[last] {
    case "func":
      guard let name = rest.range(of: funcName, options: .regularExpression) else { return nil }
      return (rest[name].dropFirst("func".count).trimmingCharacters(in: .whitespaces), offset)
    case "var":
      guard rest.range(of: computedVar, options: .regularExpression) != nil else { return nil }
      let name = rest.dropFirst("var".count).prefix { $0 != ":" }
      return (name.trimmingCharacters(in: .whitespaces), offset)
    case "init", "deinit", "subscript": return (String(header[last]), offset)
    default: return nil
    }
  }

  @Test func theScannerSkipsStringsAndComments() {
    let sample = #"""
      func a() {
        let s = "{ \"}\" \(x.map { "}" })"
      }
      func b() -> String {
        """
        } { "quoted" \(y) "
        """
      }
      // func c() {
      /* } { /* nested } */ { */
      func d(_ f: (Int) -> Int = { $0 }) {
        let r = #"a"}\(b)"#
        var total = 0
        if total > 0 { total += 1 }
      }
      protocol P {
        func e()
        var f: Int { get }
      }
      var g: Int {
        get { 1 }
      }
      init?(h: Int) { self.init() }
      """#
    let found = FunctionLengthTests.bodies(in: sample)
    #expect(
      found == [
        Body(name: "a", line: 1, length: 3), Body(name: "b", line: 4, length: 5), Body(name: "d", line: 11, length: 5),
        Body(name: "f", line: 18, length: 1), Body(name: "g", line: 20, length: 3),
        Body(name: "init", line: 23, length: 1),
      ])
    // A body is measured from its keyword to its brace, so this one is the limit plus one.
    let long =
      "/// A doc comment is not counted.\nfunc long() {\n" + String(repeating: "  step()\n", count: Self.limit - 1)
      + "}\n"
    #expect(FunctionLengthTests.bodies(in: long) == [Body(name: "long", line: 2, length: Self.limit + 1)])
  }

  @Test func noFunctionIsLongerThanTheLimit() throws {
    let root = DocumentCitationTests.root + "/Sources"
    let manager = FileManager.default
    guard let walker = manager.enumerator(atPath: root) else {
      Issue.record("cannot list \(root)")
      return
    }
    var long: [String] = []
    var scanned = 0
    var stillLong: Set<String> = []
    for case let relative as String in walker where relative.hasSuffix(".swift") {
      guard let text = try? String(contentsOfFile: root + "/" + relative, encoding: .utf8) else { continue }
      scanned += 1
      for body in Self.bodies(in: text) where body.length > Self.limit {
        let key = "\(relative) \(body.name)"
        if Self.allowed.contains(key) {
          stillLong.insert(key)
          continue
        }
        long.append("Sources/\(relative):\(body.line): \(body.name) is \(body.length) lines")
      }
    }
    #expect(scanned > 100, "the walk found too few files under \(root)")
    #expect(
      long.isEmpty,
      "\(long.count) functions over \(Self.limit) lines; split them:\n\(long.sorted().joined(separator: "\n"))")
    let shorter = Self.allowed.subtracting(stillLong)
    #expect(shorter.isEmpty, "now short enough: take them off the allow-list: \(shorter.sorted())")
  }
}
