import Kernel

/// Runs a transcript or a lesson on a session and collects what an exported page shows: the prose,
/// each command with what it printed now (not the file's patterns), and the pictures of the state
/// after it: those of every part the command changed, and the one a `draw` command drew.
public enum Exporter {
  /// A transcript's items in order, each command run on `session`; `#pause` becomes a section break.
  public static func transcript(_ file: TranscriptFile, features: Set<String>, session: Session) -> [ExportItem] {
    var items: [ExportItem] = []
    var prose: [String] = []
    var titleTaken = false
    func flush() {
      if !prose.isEmpty { items.append(.prose(prose)) }
      prose = []
    }
    for item in file.selectedItems(features: features) {
      switch item {
      case .narrative(_, let text):
        var line = Substring(text)
        if line.hasPrefix("#") { line = line.dropFirst() }
        if line.hasPrefix(" ") { line = line.dropFirst() }
        // The first line of a transcript is its title: the page has it as its heading already.
        if !titleTaken {
          titleTaken = true
          continue
        }
        prose.append(String(line))
      case .pause(_, let caption):
        flush()
        items.append(.section(caption))
      case .step(let step):
        flush()
        items.append(.step(run(step.command, prompt: session.prompt, on: session)))
      case .sleep, .conditional: break
      }
    }
    flush()
    return items + [finalState(of: session)]
  }

  /// The title of a transcript: its first narrative line, without the `# `.
  public static func title(of file: TranscriptFile) -> String? {
    for item in file.items {
      if case .narrative(_, let text) = item {
        var line = Substring(text)
        if line.hasPrefix("#") { line = line.dropFirst() }
        return String(line.drop { $0 == " " })
      }
    }
    return nil
  }

  /// A lesson as a handout: its intro and steps, each lab block run on `session` with its output
  /// and pictures; exercises show what to achieve, and their hints and solutions only with
  /// `solutions` (the solutions are run either way, so the later steps start where the lesson
  /// expects).
  public static func lesson(_ lesson: Lesson, session: Session, solutions: Bool) -> [ExportItem] {
    var items: [ExportItem] = [.prose(lesson.intro.filter { !$0.hasPrefix("# ") })]
    for step in lesson.steps {
      items.append(.heading(step.title))
      items.append(.prose(step.before))
      for command in step.lab?.commands ?? [] {
        items.append(.step(run(command.text, prompt: session.prompt, on: session)))
      }
      if let shell = step.shell { items.append(.block(title: "On a Linux machine:", lines: shell.lines)) }
      items.append(.prose(step.after))
      if let check = step.check {
        items.append(.block(title: "Exercise: make these true", lines: check.assertions.map(\.text)))
        // A lesson's last hint often is the answer: hints go with the solutions.
        if solutions {
          for (i, hint) in step.hints.enumerated() { items.append(.block(title: "Hint \(i + 1)", lines: hint.lines)) }
        }
      }
      if let solution = step.solution {
        let ran = solution.commands.map { run($0.text, prompt: session.prompt, on: session) }
        if solutions {
          items.append(.block(title: "Solution", lines: []))
          items += ran.map { .step($0) }
        }
      }
    }
    return items + [finalState(of: session)]
  }

  /// Every picture of the session's state now (the layers of each box with an overlay), and the
  /// state tree as JSON.
  public static func finalState(of session: Session) -> ExportItem {
    .finalState(pictures: pictures(of: session, changes: nil), json: JSON.encode(session.tree))
  }

  /// Every picture of the session's state now, `changes` marked (nil: nothing marked).
  public static func pictures(of session: Session, changes: [StateChange]?) -> [ExportPicture] {
    var pictures: [ExportPicture] = []
    for kind in PictureKind.allCases {
      if kind == .layers {
        for box in session.boxNames where session.tree.value(at: StatePath(keys: box, "fs")) != nil {
          var input = session.pictureInput(changes: changes, file: nil, usage: false)
          input.box = box
          if let svg = PictureSVG.draw(kind, input) { pictures.append(ExportPicture(kind: kind, svg: svg)) }
        }
        continue
      }
      if let svg = PictureSVG.draw(kind, session.pictureInput(changes: changes, file: nil, usage: false)) {
        pictures.append(ExportPicture(kind: kind, svg: svg))
      }
    }
    return pictures
  }

  /// One command on the session, with the pictures of what it changed (and of what it drew).
  static func run(_ command: String, prompt: String, on session: Session) -> ExportStep {
    let before = session.tree
    let output = session.execute(command)
    let changes = StateDiff.between(before, session.tree)
    return ExportStep(
      prompt: prompt, command: command, output: output,
      pictures: stepPictures(command: command, changes: changes, session: session))
  }

  /// The pictures a step shows, drawn on the session's state after it: those of every part
  /// `changes` touched, changes marked, or those a `draw` command drew.
  public static func stepPictures(command: String, changes: [StateChange], session: Session) -> [ExportPicture] {
    var kinds = PictureKind.allCases.filter { kind in changes.contains { Session.kind(of: $0.path) == kind } }
    let words = command.split(separator: " ").map(String.init)
    var file: String?
    if words.first == "draw" {
      let named = words.dropFirst().compactMap { PictureKind(rawValue: $0) }
      kinds = named.isEmpty ? PictureKind.allCases : named
      if named == [.layers] { file = words.dropFirst(2).first { $0.hasPrefix("/") } }
    }
    let input = session.pictureInput(changes: changes, file: file, usage: false)
    return kinds.compactMap { kind in PictureSVG.draw(kind, input).map { ExportPicture(kind: kind, svg: $0) } }
  }
}
