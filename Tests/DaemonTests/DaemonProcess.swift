import Foundation
import Glibc

/// A `boxwalk daemon` started by a test on a socket in a directory of the test's own, and curl
/// (curl --unix-socket, as the README shows) to talk to it. The log (standard output and error)
/// goes to a file, so a chatty daemon never blocks on a full pipe.
final class DaemonProcess {
  static let binDir: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var dir = (exe as NSString).deletingLastPathComponent
    // The test bundle may live in a subdirectory (.xctest) of the build directory.
    while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: dir + "/boxwalk") {
      dir = (dir as NSString).deletingLastPathComponent
    }
    return dir
  }()

  let process: Process
  let directory: String
  let socket: String
  let logPath: String

  /// A fresh directory under /tmp, short enough for a socket path (unix(7): 107 bytes).
  static func makeDirectory() -> String {
    var template = Array("/tmp/bwd-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress.flatMap { mkdtemp($0) } != nil
    }
    precondition(made, "mkdtemp failed")
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Starts a daemon and waits until it answers GET /v1/ping (or fails with its log).
  static func start(
    directory: String? = nil, logName: String = "daemon.log", arguments: [String] = [], wait: Bool = true
  ) throws -> DaemonProcess {
    let dir = directory ?? makeDirectory()
    let daemon = try launch(directory: dir, logName: logName, arguments: arguments)
    if wait { try daemon.waitUntilServing() }
    return daemon
  }

  /// Starts `boxwalk daemon --socket DIR/boxwalk.sock ARGUMENTS` without waiting for it.
  static func launch(directory: String, logName: String = "daemon.log", arguments: [String] = []) throws
    -> DaemonProcess
  {
    let socket = directory + "/boxwalk.sock"
    let logPath = directory + "/" + logName
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binDir + "/boxwalk")
    p.arguments = ["daemon", "--socket", socket] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment["BOXWALK_HOME"] = directory + "/home"
    environment.removeValue(forKey: "BOXWALK_HOST")
    p.environment = environment
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = log
    p.standardError = log
    try p.run()
    return DaemonProcess(process: p, directory: directory, socket: socket, logPath: logPath)
  }

  init(process: Process, directory: String, socket: String, logPath: String) {
    self.process = process
    self.directory = directory
    self.socket = socket
    self.logPath = logPath
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  func waitUntilServing() throws {
    for _ in 0..<600 {
      if !process.isRunning { throw Failure(description: "the daemon exited: \(log)") }
      if (try? curl("GET", "/v1/ping").status) == 200 { return }
      usleep(50_000)
    }
    throw Failure(description: "the daemon did not answer within 30 s: \(log)")
  }

  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  /// One request through curl; `user` runs curl as that uid (setpriv(1)), for ownership tests;
  /// `headers` are sent as they are (`Origin: ...`), and the response's header block is written
  /// to the file `head` when given.
  func curl(
    _ method: String, _ path: String, body: String? = nil, user: UInt32? = nil, headers: [String] = [],
    head: String? = nil
  ) throws -> (status: Int, body: String) {
    var args = ["--unix-socket", socket, "-X", method, "http://boxwalk" + path]
    for header in headers { args += ["-H", header] }
    if let head { args += ["-D", head] }
    return try Self.curl(args, body: body, user: user)
  }

  /// curl with `arguments` (where to send what), a JSON `body` if given: the status and the body.
  static func curl(_ arguments: [String], body: String? = nil, user: UInt32? = nil) throws -> (
    status: Int, body: String
  ) {
    var args = ["-s", "-o", "-", "-w", "\n%{http_code}"] + arguments
    if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
    let p = Process()
    if let user {
      p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
      p.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--", "/usr/bin/curl"] + args
    } else {
      p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
      p.arguments = args
    }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard let cut = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: cut)...]) else {
      throw Failure(description: "curl printed no status: \(text)")
    }
    // Every answer of the daemon ends with a newline (for a terminal's sake); the body is the rest.
    var answer = String(text[..<cut])
    if answer.hasSuffix("\n") { answer.removeLast() }
    return (status, answer)
  }

  /// `POST /v1/sessions` for `backend`; the new session's id.
  func newSession(_ backend: String, user: UInt32? = nil) throws -> String {
    let (status, body) = try curl("POST", "/v1/sessions", body: #"{"backend":"\#(backend)"}"#, user: user)
    guard status == 201, let id = Self.member("id", of: body) else {
      throw Failure(description: "POST /v1/sessions answered \(status): \(body)")
    }
    return id
  }

  /// A string member of a JSON object.
  static func member(_ name: String, of body: String) -> String? {
    let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    return object?[name] as? String
  }

  /// The `error.field` of an API error body.
  static func errorField(_ body: String) -> String? {
    let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    return (object?["error"] as? [String: Any])?["field"] as? String
  }

  /// Sends `signal` and waits for the exit status.
  func stop(_ signal: Int32 = SIGTERM) -> Int32 {
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Removes the test's directory (after the daemon stopped).
  func removeDirectory() {
    try? FileManager.default.removeItem(atPath: directory)
  }
}
