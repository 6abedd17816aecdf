import Kernel
import OCI
import Testing

@testable import Lab

/// `box import-bundle`: config.json to the lines that build the same box, and what has no step.
@Suite struct BundleImportTests {
  static func config(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

  @Test func aContainersFieldsBecomeItsSteps() throws {
    let config = try Self.config(
      #"""
      {"ociVersion": "1.0.2", "process": {"args": ["/bin/sh", "-c", "echo hi"], "cwd": "/", "user": {"uid": 0, "gid": 0},
        "capabilities": {"bounding": []}}, "root": {"path": "rootfs"}, "hostname": "web",
       "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                  {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
                  {"destination": "/mnt", "type": "none", "source": "rootfs/etc", "options": ["rbind"]},
                  {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}],
       "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "user"},
                                {"type": "network", "path": "/proc/4242/ns/net"}, {"type": "ipc", "path": "/proc/1/ns/ipc"}],
                 "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                 "resources": {"pids": {"limit": 64}, "memory": {"limit": 67108864}, "blockIO": {}},
                 "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}, "maskedPaths": ["/proc/kcore"]},
       "annotations": {"a": "b"}}
      """#)
    let plan = try BundleImport.plan(config: config, box: "web2", directory: "/tmp/b", boxesByPID: [4242: "web"])
    #expect(
      plan.lines == [
        "image import web2-bundle /tmp/b/rootfs", "box new web2", "unshare mnt,pid,uts", "join net web", "hostname web",
        "cgroup new", "cgroup set pids.max 64", "cgroup set memory.max 67108864", "rootfs web2-bundle", "pivot-root",
        "mount proc /proc", "mount dev /dev", "mount bind /etc /mnt", "unshare user", "map uid 0 100000 65536",
      ])
    #expect(plan.process == "run /bin/sh -c 'echo hi'")
    let left = plan.left.joined(separator: "\n")
    for field in [
      "/proc/1/ns/ipc", "linux.resources.blockIO", "/sys/fs/cgroup, a cgroup mount", "process.capabilities",
      "annotations", "linux.seccomp", "linux.maskedPaths",
    ] {
      #expect(left.contains(field), "\(field) not in:\n\(left)")
    }
  }

  @Test func aRootOutsideTheBundleIsRefused() throws {
    let config = try Self.config(#"{"ociVersion": "1.0.2", "root": {"path": "/"}}"#)
    #expect(throws: BundleImport.Refusal.self) {
      try BundleImport.plan(config: config, box: "x", directory: "/tmp/b", boxesByPID: [:])
    }
  }
}
