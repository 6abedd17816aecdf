import Glibc
import Kernel
import Testing

@testable import LinuxBackend

/// Where the helper's children go and where the helper stays: the box's cgroup.procs files the
/// helper opens (its children write "0" there), and the files of the helper's own cgroup, read
/// from /proc/PID/cgroup, that it returns to after `unshare cgroup`. Against simulated
/// hierarchies in a temporary directory; the real kernel's side is in BoxProcessLifeTests.
@Suite struct CgroupHelperPlacementTests {
  @Test func procCgroupSplitsOnTheFirstTwoColonsOnly() {
    let text = """
      12:pids:/user.slice/a:b c
      4:cpu,cpuacct:/
      1:name=systemd:/user.slice
      0::/user.slice/session-2.scope
      garbage
      x:memory:/a
      5:memory:relative

      """
    let parsed = ProcCgroup(text: text)
    #expect(
      parsed.lines == [
        .init(hierarchyID: 12, controllers: ["pids"], path: "/user.slice/a:b c"),
        .init(hierarchyID: 4, controllers: ["cpu", "cpuacct"], path: "/"),
        .init(hierarchyID: 1, controllers: ["name=systemd"], path: "/user.slice"),
        .init(hierarchyID: 0, controllers: [], path: "/user.slice/session-2.scope"),
      ])
    #expect(parsed.unifiedPath == "/user.slice/session-2.scope")
    #expect(parsed.path(ofController: "cpuacct") == "/")
    #expect(parsed.path(ofController: "memory") == nil)
  }

  @Test func v2BoxFilesAndTheHelpersHome() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fs = try SimulatedCgroupFileSystem(
      root: dir.path, layout: .v2(hierarchy: "", controllers: ["memory", "pids", "cpu"], kill: true))
    let driver = CgroupV2Driver(
      root: dir.path, hierarchy: "", files: fs, signal: fs.signaller, retry: CgroupV2DriverTests.fast)
    let box = try BoxCgroup(session: "4242-987654", box: "web")
    #expect(driver.procsFiles(of: box) == [dir.path + "/boxwalk/4242-987654/web/cgroup.procs"])
    let home = ProcCgroup(text: "0::/user.slice/session-2.scope\n")
    #expect(driver.procsFiles(of: home) == [dir.path + "/user.slice/session-2.scope/cgroup.procs"])
    #expect(driver.procsFiles(of: ProcCgroup(text: "0::/\n")) == [dir.path + "/cgroup.procs"])
    // Outside the reader's cgroup namespace, or no v2 line at all: no home to go back to.
    #expect(driver.procsFiles(of: ProcCgroup(text: "0::/../other\n")) == nil)
    #expect(driver.procsFiles(of: ProcCgroup(text: "4:memory:/a\n")) == nil)
  }

  @Test func hybridV2FilesAreUnderTheUnifiedMount() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fs = try SimulatedCgroupFileSystem(
      root: dir.path, layout: .v2(hierarchy: "unified", controllers: ["memory", "pids", "cpu"], kill: true))
    let driver = CgroupV2Driver(
      root: dir.path, hierarchy: "unified", files: fs, signal: fs.signaller, retry: CgroupV2DriverTests.fast)
    let box = try BoxCgroup(session: "4242-987654", box: "web")
    #expect(driver.procsFiles(of: box) == [dir.path + "/unified/boxwalk/4242-987654/web/cgroup.procs"])
    #expect(driver.procsFiles(of: ProcCgroup(text: "0::/x\n")) == [dir.path + "/unified/x/cgroup.procs"])
  }

  @Test func v1FilesFollowTheHierarchiesInOrder() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let hierarchies: [String: [String]] = [
      "memory": ["memory"], "pids": ["pids"], "cpu,cpuacct": ["cpu", "cpuacct"], "freezer": ["freezer"],
    ]
    let fs = try SimulatedCgroupFileSystem(root: dir.path, layout: .v1(hierarchies))
    let driver = CgroupV1Driver(
      root: dir.path,
      hierarchies: [
        "memory": "memory", "pids": "pids", "cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct", "freezer": "freezer",
      ],
      files: fs, signal: fs.signaller, retry: CgroupV2DriverTests.fast)
    let box = try BoxCgroup(session: "4242-987654", box: "web")
    let boxFiles = driver.procsFiles(of: box)
    #expect(boxFiles == driver.directories(of: box).map { dir.path + "/" + $0 + "/cgroup.procs" })
    #expect(boxFiles.count == 4)
    let home = ProcCgroup(
      text: """
        9:freezer:/
        6:cpu,cpuacct:/user.slice
        4:memory:/user.slice/session-2.scope
        3:pids:/user.slice/session-2.scope
        0::/user.slice/session-2.scope

        """)
    let expected = driver.directories(of: box).map { hierarchy -> String in
      let top = String(hierarchy.prefix { $0 != "/" })
      let path = [
        "memory": "/user.slice/session-2.scope", "pids": "/user.slice/session-2.scope", "cpu,cpuacct": "/user.slice",
        "freezer": "",
      ][top]!
      return dir.path + "/" + top + path + "/cgroup.procs"
    }
    #expect(driver.procsFiles(of: home) == expected)
    // A hierarchy the process's file does not mention: no home.
    #expect(driver.procsFiles(of: ProcCgroup(text: "4:memory:/\n3:pids:/\n")) == nil)
  }
}
