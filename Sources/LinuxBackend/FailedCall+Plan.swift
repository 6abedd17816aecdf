import HelperWire
import Kernel

extension FailedCall {
  /// Whether `entry`, one entry of a step's plan, is a call of this name: the system call the
  /// helper made for it when it made it. Positions need the step as well, and
  /// LinuxKernel.entry(_:failed:) looks at them first.
  func makes(_ entry: SystemCall) -> Bool {
    switch (self, entry) {
    case (.fork, .fork), (.fork, .forkTimes): true
    case (.unshare, .unshare), (.sethostname, .sethostname), (.setdomainname, .setdomainname): true
    // A write(2) to a /proc or cgroup file: user_namespaces(7), time_namespaces(7), cgroups(7),
    // proc_sys_net_ipv4(5).
    case (.write, .denySetgroups), (.write, .writeIDMap), (.write, .writeTimeOffset), (.write, .writeCgroup),
      (.write, .enterCgroup), (.write, .writeIPForward):
      true
    // mount(2) with only a propagation flag, such as the make-private after unshare(CLONE_NEWNS).
    case (.mount, .setPropagation): true
    case (.openat2, .openBeneath): true
    case (.open, .openCgroupProcs): true
    // rtnetlink(7) requests and nft(8)'s batch both go out by sendmsg(2) on a netlink socket.
    case (.sendmsg, .rtnetlink), (.sendmsg, .nftables), (.socket, .socket): true
    default: false
    }
  }
}
