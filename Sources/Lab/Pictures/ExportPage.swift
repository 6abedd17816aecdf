import Kernel

/// What an exported page is made of, in order: prose, section breaks (a transcript's `#pause`, a
/// lesson's steps), and commands with what they printed and the pictures of the state after them.
public enum ExportItem: Equatable, Sendable {
  case heading(String)
  case prose([String])
  case section(String)
  case step(ExportStep)
  /// A block shown as it is: a lesson's `shell` block, or its exercise's checks and hints.
  case block(title: String, lines: [String])
  /// The lab at the end: every picture of the final state, and the state tree itself as JSON
  /// data (not a script: the page runs none), which the browser test checks the pictures against.
  case finalState(pictures: [ExportPicture], json: String)
}

public struct ExportStep: Equatable, Sendable {
  public var prompt: String
  public var command: String
  public var output: [String]
  /// Inline SVG of each picture the step changed (or that a `draw` step drew), by kind.
  public var pictures: [ExportPicture]

  public init(prompt: String, command: String, output: [String], pictures: [ExportPicture]) {
    self.prompt = prompt
    self.command = command
    self.output = output
    self.pictures = pictures
  }
}

public struct ExportPicture: Equatable, Sendable {
  public var kind: PictureKind
  public var svg: String
  public init(kind: PictureKind, svg: String) {
    self.kind = kind
    self.svg = svg
  }
}

/// `boxwalk export --html`: one self-contained page, no script and no external asset (the style
/// sheet is inline and the pictures are inline SVG), so it opens from a shared drive or a USB
/// stick and prints as a handout.
public enum ExportPage {
  public static func html(title: String, source: String, backend: String, items: [ExportItem]) -> String {
    document(
      title: title, source: "\(PictureSVG.xml(source)), run on the \(PictureSVG.xml(backend)) backend",
      body: body(items))
  }

  /// The page's elements for `items`, in order.
  static func body(_ items: [ExportItem]) -> [String] {
    var body: [String] = []
    var stepNumber = 0
    for item in items {
      switch item {
      case .heading(let text): body.append("<h2>\(inline(text))</h2>")
      case .prose(let lines):
        // Blank lines split paragraphs, as in Markdown.
        var paragraph: [String] = []
        func flush() {
          if !paragraph.isEmpty { body.append("<p>" + paragraph.map(inline).joined(separator: "\n") + "</p>") }
          paragraph = []
        }
        for line in lines {
          if line.trimmingSpaces.isEmpty { flush() } else { paragraph.append(line) }
        }
        flush()
      case .section(let caption):
        body.append("<hr class=\"pause\">")
        if !caption.isEmpty { body.append("<p class=\"caption\">\(inline(caption))</p>") }
      case .block(let title, let lines):
        body.append(
          "<div class=\"block\"><div class=\"block-title\">\(PictureSVG.xml(title))</div><pre>"
            + lines.map(PictureSVG.xml).joined(separator: "\n") + "</pre></div>")
      case .finalState(let pictures, let json):
        body.append("<section class=\"final-state\"><h2>The lab at the end</h2>")
        body += pictures.map(figure)
        // Inside a script element the HTML parser still looks for markup: "</script" ends it early,
        // and "<!--" followed by "<script" puts it in the "double escaped" state, where the
        // element's own "</script>" no longer ends it and the rest of the page is swallowed
        // (HTML Living Standard, "script data escaped state"). A "<" is only ever in a JSON
        // string, where "\u003c" is the same character, so no "<" is left for the parser to see.
        let data = json.replacingAll("<", with: "\\u003c")
        body.append("<script type=\"application/json\" id=\"boxwalk-state\">" + data + "</script></section>")
      case .step(let step):
        stepNumber += 1
        body.append(section(step, number: stepNumber))
      }
    }
    return body
  }

  /// One step: its command after its prompt, what it printed, and its pictures. `number` names it
  /// (`id="step-N"`); the live view numbers the steps it adds itself.
  public static func section(_ step: ExportStep, number: Int?) -> String {
    var s = "<section class=\"step\"" + (number.map { " id=\"step-\($0)\" data-step=\"\($0)\"" } ?? "") + ">"
    s += "<pre class=\"command\"><span class=\"prompt\">\(PictureSVG.xml(step.prompt))</span>"
    s += "<span class=\"input\">\(PictureSVG.xml(step.command))</span></pre>"
    if !step.output.isEmpty {
      s += "<pre class=\"output\">" + step.output.map(PictureSVG.xml).joined(separator: "\n") + "</pre>"
    }
    return s + step.pictures.map(figure).joined() + "</section>"
  }

  /// One picture in its figure, which names its kind.
  public static func figure(_ picture: ExportPicture) -> String {
    "<figure class=\"diagram\" data-kind=\"\(picture.kind.rawValue)\">" + picture.svg + "</figure>"
  }

  /// The whole page around `body`: the inline style sheet, the title, and `source` (already
  /// escaped) under it; `script`, when given, goes last in the body (with `nonce`, the one the
  /// page's Content-Security-Policy allows), and `head` into the head.
  static func document(
    title: String, source: String, body: [String], head extra: [String] = [], script: String? = nil,
    nonce: String? = nil
  ) -> String {
    let head = [
      "<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
      "<meta name=\"generator\" content=\"boxwalk export\">",
      "<title>\(PictureSVG.xml(title))</title>", "<style>", style, "</style>",
    ]
    let top = [
      "</head>", "<body>", "<header><h1>\(inline(title))</h1>", "<p class=\"source\">\(source)</p></header>", "<main>",
    ]
    let end =
      ["</main>"]
      + (script.map { [nonce.map { "<script nonce=\"\(PictureSVG.xml($0))\">" } ?? "<script>", $0, "</script>"] } ?? [])
      + ["</body>", "</html>", ""]
    return (head + extra + top + body + end).joined(separator: "\n")
  }

  /// Prose with `code` spans, escaped.
  static func inline(_ text: String) -> String {
    var out = ""
    var inCode = false
    for part in text.split(separator: "`", omittingEmptySubsequences: false) {
      out += inCode ? "<code>" + PictureSVG.xml(String(part)) + "</code>" : PictureSVG.xml(String(part))
      inCode.toggle()
    }
    return out
  }

  static let style = """
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1d; }
    h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
    .source { color: #666; font-size: 0.9rem; }
    code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.85rem; }
    pre { margin: 0; white-space: pre-wrap; }
    .step { margin: 0.8rem 0; page-break-inside: avoid; }
    .command { background: #1d2430; color: #e8e8e8; padding: 0.3rem 0.6rem; border-radius: 4px 4px 0 0; }
    .prompt { color: #7fd1a0; }
    .output { background: #f4f4f4; padding: 0.4rem 0.6rem; border-radius: 0 0 4px 4px; }
    hr.pause { border: 0; border-top: 2px dashed #bbb; margin: 2rem 0 0.5rem; }
    .caption { color: #555; font-style: italic; }
    .block { border-left: 3px solid #7a9cc6; padding-left: 0.6rem; margin: 0.6rem 0; }
    .block-title { font-weight: 600; font-size: 0.9rem; }
    figure.diagram { margin: 0.5rem 0; overflow-x: auto; }
    svg.picture { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #fff; }
    svg .head, svg .ns-name, svg .layer-name, svg .name { font-weight: 700; }
    svg .cell, svg .node, svg .ns-box, svg .end-box, svg .layer-box { fill: #fff; stroke: #555; }
    svg .ns-cell.shared .cell { fill: #e4e4e4; } svg .ns-cell.own .cell { fill: #d8ecff; }
    svg .changed > rect, svg .changed .cell { stroke: #d08000; stroke-width: 2.5; }
    svg .end.down .end-box { stroke-dasharray: 4 3; fill: #fbeaea; }
    svg .end.bridge .end-box { fill: #eef6e8; }
    svg .link { stroke: #2c6fb7; stroke-width: 3; } svg .link.down { stroke: #c33; stroke-dasharray: 6 4; }
    svg .link.port { stroke: #6a6; stroke-width: 2; } svg path.link { fill: none; }
    svg .layer.upper .layer-box { fill: #fff7e0; } svg .layer.lower .layer-box { fill: #eef2f7; }
    svg .layer.source .layer-box { stroke: #d08000; stroke-width: 3; }
    svg .entry.whiteout { fill: #b00; } svg .entry.opaque { fill: #6a3d9a; } svg .pointer { fill: #d08000; }
    svg .tree { fill: none; stroke: #888; } svg .bar-empty { fill: #eee; stroke: #999; } svg .bar-full { fill: #2c6fb7; }
    svg text { fill: #1d1d1d; } svg .route-entry { fill: #555; }
    @media print { body { margin: 0; max-width: none; } .command { color: #000; background: #eee; } }
    """
}

/// `boxwalk export --cast`: an asciicast v2 recording (a JSON header line, then one JSON array
/// per event: `[seconds, "o", text]` for output and `[seconds, "m", label]` for a marker), one
/// marker per step so an asciinema player can jump between them. Times are made up and fixed,
/// so the same transcript always gives the same file.
public enum ExportCast {
  public static func cast(title: String, width: Int = 80, height: Int = 30, items: [ExportItem]) -> String {
    var lines = [
      "{\"version\": 2, \"width\": \(width), \"height\": \(height), \"title\": \(JSON.quote(title)), "
        + "\"env\": {\"TERM\": \"xterm-256color\"}}"
    ]
    var t = 0.0
    var n = 0
    func event(_ kind: String, _ text: String) {
      lines.append("[\(seconds(t)), \"\(kind)\", \(JSON.quote(text))]")
    }
    for item in items {
      switch item {
      case .heading(let text), .section(let text):
        if !text.isEmpty { event("o", "\u{1B}[1m# " + text + "\u{1B}[0m\r\n") }
        t += 0.5
      case .prose(let prose):
        let text = prose.filter { !$0.trimmingSpaces.isEmpty }
        if !text.isEmpty { event("o", text.map { "\u{1B}[2m# " + $0 + "\u{1B}[0m\r\n" }.joined()) }
        t += 0.5
      case .block(let title, let block):
        event("o", ([title] + block).map { $0 + "\r\n" }.joined())
        t += 0.5
      case .finalState: break
      case .step(let step):
        n += 1
        event("m", "\(n): \(step.command)")
        event("o", step.prompt)
        t += 0.3
        event("o", step.command + "\r\n")
        t += 0.4
        if !step.output.isEmpty { event("o", step.output.map { $0 + "\r\n" }.joined()) }
        t += 1.0
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func seconds(_ t: Double) -> String {
    let ms = Int((t * 1000).rounded())
    let frac = ms % 1000
    return "\(ms / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + String(frac)
  }
}

extension String {
  var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }
}
