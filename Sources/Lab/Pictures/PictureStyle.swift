/// How a picture is drawn in text: which characters, how wide, and whether changed parts are
/// highlighted with ANSI escapes. The same picture model is drawn in every style; only the glyphs
/// and the cut at the right margin differ (docs/pictures.md).
public struct PictureStyle: Sendable, Equatable {
  public enum Charset: String, Sendable, Equatable {
    /// Box-drawing characters (U+2500...), for a terminal whose locale is UTF-8.
    case unicode
    /// Plain ASCII, for NO_COLOR and for terminals whose locale is not UTF-8.
    case ascii
  }

  public var charset: Charset
  /// Columns: lines are cut there, and layouts that cannot fit switch to a narrower form.
  public var width: Int
  /// Highlight changed lines with ANSI escapes (only on a terminal, never with NO_COLOR).
  public var ansi: Bool

  public init(charset: Charset = .unicode, width: Int = 80, ansi: Bool = false) {
    self.charset = charset
    self.width = max(PictureStyle.minimumWidth, width)
    self.ansi = ansi
  }

  /// The style transcripts, lessons and piped sessions use: box-drawing characters, 80 columns,
  /// no escapes, so a transcript prints byte for byte the same everywhere.
  public static let plain = PictureStyle()

  /// Narrower than this, no picture is readable; a smaller terminal gets lines it wraps.
  public static let minimumWidth = 40

  /// The glyphs of this charset.
  var g: Glyphs { charset == .unicode ? .unicode : .ascii }
}

/// The characters a picture is drawn with.
struct Glyphs: Sendable {
  var h: String
  var v: String
  var topLeft: String
  var topRight: String
  var bottomLeft: String
  var bottomRight: String
  var teeDown: String
  var teeUp: String
  var teeRight: String
  var teeLeft: String
  var cross: String
  /// A tree's branch and last branch, and the continuation under a branch.
  var branch: String
  var lastBranch: String
  var under: String
  /// A cable between two link ends (a veth pair), and the mark of a cable that carries nothing.
  var cable: String
  var cut: String
  var arrow: String
  var barFull: String
  var barEmpty: String
  /// What marks a part the last step changed, and what points at a layer a file comes from.
  var changed: String
  var pointer: String
  var ellipsis: String

  static let unicode = Glyphs(
    h: "─", v: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘", teeDown: "┬", teeUp: "┴",
    teeRight: "├", teeLeft: "┤", cross: "┼", branch: "├── ", lastBranch: "└── ", under: "│   ", cable: "━",
    cut: "╳", arrow: "→", barFull: "█", barEmpty: "░", changed: "◆", pointer: "◀", ellipsis: "…")

  static let ascii = Glyphs(
    h: "-", v: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+", teeDown: "+", teeUp: "+",
    teeRight: "+", teeLeft: "+", cross: "+", branch: "|-- ", lastBranch: "`-- ", under: "|   ", cable: "=",
    cut: "x", arrow: "->", barFull: "#", barEmpty: ".", changed: "*", pointer: "<", ellipsis: "~")
}

/// One line of a drawn picture, and whether it shows something the last step changed.
struct PictureLine: Equatable, Sendable {
  var text: String
  var changed = false

  init(_ text: String, changed: Bool = false) {
    self.text = text
    self.changed = changed
  }
}

extension PictureStyle {
  /// The finished lines: cut at the width (with an ellipsis) and, on an ANSI terminal, changed
  /// lines in bold yellow. Trailing blanks are dropped: transcripts ignore them anyway.
  func finish(_ lines: [PictureLine]) -> [String] {
    lines.map { line in
      var text = String(line.text.reversed().drop { $0 == " " }.reversed())
      if text.count > width { text = String(text.prefix(width - g.ellipsis.count)) + g.ellipsis }
      return ansi && line.changed ? Self.highlightOn + text + Self.highlightOff : text
    }
  }

  static let highlightOn = "\u{1B}[1;33m"
  static let highlightOff = "\u{1B}[0m"

  /// A line without the highlight `finish` puts around changed lines: what a recording writes and
  /// a page shows (the terminal's colour is not part of the text).
  public static func withoutHighlight(_ line: String) -> String {
    guard line.contains("\u{1B}") else { return line }
    return line.replacingAll(highlightOn, with: "").replacingAll(highlightOff, with: "")
  }
}

extension String {
  /// Left-aligned in `width` columns (every character boxwalk draws is one column wide).
  func padded(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }

  func centered(_ width: Int) -> String {
    guard count < width else { return self }
    let left = (width - count) / 2
    return String(repeating: " ", count: left) + self + String(repeating: " ", count: width - count - left)
  }

  func repeated(_ n: Int) -> String { n > 0 ? String(repeating: self, count: n) : "" }
}
