import Kernel

/// `boxwalk class collect`: collected reports as a table on screen and as CSV for a gradebook.
public enum ClassGradebook {
  /// The screen table, one learner a row, in the order given (the files' order), then a line
  /// that counts them. An altered report keeps its row, marked.
  public static func table(_ reports: [LearnerReport.Collected]) -> [String] {
    guard !reports.isEmpty else { return ["no reports collected"] }
    var rows = [
      ["NAME", "HOST", "BACKEND", "LESSONS", "STEPS", "PERCENT", "HINTS", "SOLUTIONS", "CHECKS-FAILED", "REPORT"]
    ]
    for r in reports {
      rows.append([
        escapedForTerminal(r.name), escapedForTerminal(r.host), escapedForTerminal(r.backend),
        "\(r.lessonsDone)/\(r.lessonsTotal)", "\(r.stepsDone)/\(r.stepsTotal)", "\(r.percent)%", String(r.hints),
        String(r.solutions), String(r.checksFailed),
        r.altered ? "ALTERED: \(escapedForTerminal(r.file)) does not match its digest" : "ok",
      ])
    }
    let altered = reports.filter(\.altered).count
    var out = DiffTable.table(rows)
    out.append(
      "\(reports.count) report\(reports.count == 1 ? "" : "s") collected"
        + (altered > 0 ? ", \(altered) altered since it was written (edited or damaged): check with the learner" : ""))
    return out
  }

  /// RFC 4180 CSV: a header, then one row per report. The fixed columns come first, then one
  /// column per lesson (percent of its steps passed), for every lesson any report names, in the
  /// order they first appear. Lines end in CRLF, as the RFC says; every spreadsheet reads it.
  public static func csv(_ reports: [LearnerReport.Collected]) -> String {
    var lessonIDs: [String] = []
    for r in reports { for l in r.lessons where !lessonIDs.contains(l.id) { lessonIDs.append(l.id) } }
    var lines = [
      ([
        "name", "host", "backend", "boxwalk", "written", "report", "lessons_done", "lessons_total", "percent",
        "steps_done", "steps_total", "hints", "solutions", "checks_failed", "file",
      ] + lessonIDs).map(field)
        .joined(separator: ",")
    ]
    for r in reports {
      var cells = [
        r.name, r.host, r.backend, r.version, String(r.written), r.altered ? "altered" : "ok", String(r.lessonsDone),
        String(r.lessonsTotal), String(r.percent), String(r.stepsDone), String(r.stepsTotal), String(r.hints),
        String(r.solutions), String(r.checksFailed), r.file,
      ]
      cells += lessonIDs.map { id in r.lessons.first { $0.id == id }.map { String($0.percent) } ?? "" }
      lines.append(cells.map(field).joined(separator: ","))
    }
    return lines.joined(separator: "\r\n") + "\r\n"
  }

  /// One CSV field. Quoted when it holds a comma, a quote or a line break (RFC 4180, 2.6-2.7).
  /// A field a learner chose (the name) that starts with = + - @ or a tab would be run as a
  /// formula by a spreadsheet ("CSV injection"): it gets a leading apostrophe, which spreadsheets
  /// read as "this is text". Numbers boxwalk wrote never start that way (none is negative).
  static func field(_ text: String) -> String {
    var s = text
    if let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { s = "'" + s }
    guard s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
      return s
    }
    var quoted = "\""
    for scalar in s.unicodeScalars {
      if scalar == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(scalar) }
    }
    return quoted + "\""
  }
}
