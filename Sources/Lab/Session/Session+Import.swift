import Kernel
import OCI

extension Session {
  /// `box import-bundle DIR [NAME]`: reads DIR/config.json (Kernel.readBundleConfig), turns it
  /// into command lines (BundleImport.plan) and runs them as if typed, each printed with its
  /// output; then says what the bundle asks for that boxwalk has no step for. The box is named
  /// NAME, or after DIR's last name. The first failing line stops it, and what ran stays, as
  /// after typing.
  func importBundleCommand(_ args: [String], into out: inout Output) throws {
    guard (1...2).contains(args.count) else {
      throw usage("box import-bundle", "box import-bundle takes a directory and, if you like, a box name")
    }
    let dir = try bundleDirectory(args[0], "box import-bundle", does: "reads", fix: "box import-bundle /tmp/web-bundle")
    let name = args.count == 2 ? args[1] : String(dir.split(separator: "/").last ?? "")
    do { try checkNewBoxName(name) } catch let error as LabError {
      throw LabError(
        error.headline,
        error.details.filter { $0.0 != "state" } + [("fix", "name the box: box import-bundle \(dir) web")]
          + [LabError.unchanged])
    }
    let bytes: [UInt8]
    do { bytes = try kernel.readBundleConfig(directory: dir) } catch {
      throw LabError(
        "cannot read the bundle's config.json: \(error.errno.name)",
        [("call", error.description), ("meaning", error.errno.meaning), LabError.unchanged])
    }
    let config: JSONValue
    do { config = try JSONValue.parse(bytes) } catch {
      throw LabError(
        "\(dir)/config.json is not JSON (byte \(error.offset))",
        [("fix", "a bundle's config.json, as box export or runc spec writes it"), LabError.unchanged])
    }
    var byPID: [Int: String] = [:]
    for box in facts.boxes { byPID[box.process.hostPID] = box.name }
    let plan: BundleImport.Plan
    do { plan = try BundleImport.plan(config: config, box: name, directory: dir, boxesByPID: byPID) } catch {
      throw LabError(error.reason, [("fix", error.fix), LabError.unchanged])
    }
    out.lines.append("importing \(escapedForTerminal(dir)) as box \(name): \(plan.lines.count) commands, as if typed")
    for line in plan.lines {
      let result = runAsTyped(line, shown: true, into: &out)
      guard result.ok else {
        throw LabError(
          "box import-bundle stopped: \(escapedForTerminal(line)) failed (above)",
          [("state", "what the lines before it made stays, as it would had they been typed; the rest did not run")])
      }
    }
    out.lines.append("imported \(name) from \(escapedForTerminal(dir))")
    if let process = plan.process {
      out.lines.append("  process  not started: \(escapedForTerminal(process)) starts it")
    }
    for sentence in plan.left { out.lines.append("  left     " + escapedForTerminal(sentence)) }
    if plan.left.isEmpty { out.lines.append("  left     nothing: every field has a step") }
  }
}
