import Kernel
import Simulator
import Testing

/// A box that shares the host's files looks names up in the host's tree, where some are symbolic
/// links (merged /usr: /bin -> usr/bin; /var/run -> /run). The real backend opens every mount
/// target and bind source with openat2(2) RESOLVE_NO_SYMLINKS, so a link anywhere on the way is
/// ELOOP (checked on Linux 6.18 with `mount tmpfs /bin` and `mount tmpfs /var/run`); the
/// simulator asks the host which names are links.
@Suite struct SimulatedHostLinksTests {
  func kernel() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    k.hostSymlink = { ["/bin", "/var/run"].contains($0) }
    try k.perform(.process(.boxNew(box: "a")))
    try k.perform(.namespace(.unshare(box: "a", kinds: [.mnt])))
    return k
  }

  @Test func aLinkInTheHostsTreeIsELOOPAsTargetSourceOrParent() throws {
    let k = try kernel()
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/bin")))) == .ELOOP)
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/var/run")))) == .ELOOP)
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/bin/x")))) == .ELOOP)
    #expect(errno(k, .mount(.mount(box: "a", request: .bind(source: "/bin", target: "/mnt")))) == .ELOOP)
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/var")))) == nil)
  }

  @Test func aMountTheBoxMadeAboveTheLinkHidesIt() throws {
    let k = try kernel()
    try k.perform(.mount(.mount(box: "a", request: .tmpfs(path: "/var"))))
    // The tmpfs on /var is empty: no run in it, no link.
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/var/run")))) == .ENOENT)
  }
}
