import Glibc

/// Where boxwalk keeps a learner's files (XDG Base Directory Specification).
enum Paths {
  static func env(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
  }

  /// $XDG_STATE_HOME/boxwalk, default ~/.local/state/boxwalk: history and lesson progress.
  static var stateHome: String? {
    if let x = env("XDG_STATE_HOME") { return x + "/boxwalk" }
    guard let home = env("HOME") else { return nil }
    return home + "/.local/state/boxwalk"
  }

  /// The history file: BOXWALK_HISTFILE, else $XDG_STATE_HOME/boxwalk/history.
  static var historyFile: String? { historyFile(creating: true) }

  /// The history file; `creating` makes its directory first (the REPL writes it; `reset` only
  /// removes it).
  static func historyFile(creating: Bool) -> String? {
    if let h = env("BOXWALK_HISTFILE") { return h }
    guard let dir = stateHome else { return nil }
    if creating { makeDirectories(dir) }
    return dir + "/history"
  }

  /// mkdir -p with mode 0700.
  static func makeDirectories(_ path: String) {
    var prefix = ""
    for part in path.split(separator: "/") {
      prefix += "/" + part
      mkdir(prefix, 0o700)
    }
  }
}
