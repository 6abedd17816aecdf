import Foundation
import HostSnapshotSupport
import Testing

/// The simulated host starts with what this machine gives boxwalk, as the real backend reports
/// it: the capability sets of a process in the host's user namespace (a container host may drop
/// some) and the digest of the busybox image's layer, which is made from this machine's
/// busybox-static (issue 23, family 18: sim said "all" and a stand-in's digest, real 40
/// capability names and, before the image was built, "").
@Suite(.serialized, .enabled(if: geteuid() == 0, "the real backend needs root"), .hostUnchanged)
struct SimHostFactsTests {
  /// `state --json` after `input`, as a JSON object.
  static func state(_ backend: String, _ input: String) throws -> [String: Any] {
    let run = try CommandLineTests.boxwalk(["--backend", backend], input: input + "\nstate --json\n")
    let last = try #require(run.lines.last { $0.hasPrefix("{\"backend\"") })
    let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
    return try #require(object)
  }

  static func value(_ tree: [String: Any], _ path: [String]) -> Any? {
    var node: Any? = tree
    for key in path { node = (node as? [String: Any])?[key] }
    return node
  }

  @Test(arguments: [["box new a"], ["box new a", "unshare mnt", "rootfs busybox"]])
  func hostCapabilitiesAndTheBusyboxDigestAreThisMachines(_ setup: [String]) throws {
    let input = setup.joined(separator: "\n")
    let sim = try Self.state("sim", input)
    let real = try Self.state("real", input)
    for path in [
      ["state", "host", "user", "caps", "effective"], ["state", "host", "user", "caps", "bounding"],
      ["state", "host", "layers", "busybox", "diff_id"], ["state", "a", "user", "caps", "effective"],
    ] {
      let s = Self.value(sim, path) as? String
      let r = Self.value(real, path) as? String
      #expect(s != nil && s == r, "\(path.joined(separator: ".")): sim \(s ?? "nil"), real \(r ?? "nil")")
    }
    let digest = Self.value(real, ["state", "host", "layers", "busybox", "diff_id"]) as? String
    #expect(digest?.hasPrefix("sha256:") == true)
  }

  /// A bind mount has the type of the file system its source is on, as mountinfo says (both
  /// backends said "bind"): the host's for a host directory, the box's tmpfs for a path in it.
  @Test func aBindMountHasItsSourcesFileSystemType() throws {
    let input = [
      "box new a", "unshare mnt", "mount bind /tmp /srv", "box new b", "unshare mnt", "rootfs busybox", "pivot-root",
      "mount tmpfs /mnt", "mount bind /mnt /var",
    ].joined(separator: "\n")
    let sim = try Self.state("sim", input)
    let real = try Self.state("real", input)
    for path in [["state", "a", "mounts", "/srv", "fstype"], ["state", "b", "mounts", "/var", "fstype"]] {
      let s = Self.value(sim, path) as? String
      let r = Self.value(real, path) as? String
      #expect(
        s != nil && s == r && r != "bind", "\(path.joined(separator: ".")): sim \(s ?? "nil"), real \(r ?? "nil")")
    }
    #expect(Self.value(real, ["state", "b", "mounts", "/var", "fstype"]) as? String == "tmpfs")
  }
}
