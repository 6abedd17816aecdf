import HelperWire
import Kernel

extension FailedCall {
  /// Whether `entry`, one entry of a step's plan, is a call of this name: the system call the
  /// helper made for it when it made it. openat2(2) of a bind's source, fsconfig(2) and
  /// positions need the step as well, and LinuxKernel.entry(_:failed:) looks at them first.
  func makes(_ entry: SystemCall) -> Bool {
    switch (self, entry) {
    case (.fork, .fork), (.fork, .forkTimes): true
    case (.unshare, .unshare), (.setns, .setns), (.sethostname, .sethostname), (.setdomainname, .setdomainname):
      true
    // A write(2) to a /proc or cgroup file: user_namespaces(7), time_namespaces(7), cgroups(7),
    // proc_sys_net_ipv4(5).
    case (.write, .denySetgroups), (.write, .writeIDMap), (.write, .writeTimeOffset), (.write, .writeCgroup),
      (.write, .enterCgroup), (.write, .writeIPForward):
      true
    case (.setresuid, .becomeRoot(_, .uid)), (.setresgid, .becomeRoot(_, .gid)): true
    case (.msgget, .sysvGet(.mq, _)), (.shmget, .sysvGet(.shm, _)), (.semget, .sysvGet(.sem, _)): true
    case (.mqOpen, .mqOpen): true
    // mount(2) with only a propagation flag, such as the make-private after unshare(CLONE_NEWNS).
    case (.mount, .setPropagation): true
    case (.openat2, .openBeneath): true
    case (.fsopen, .fsopen), (.fsconfig, .fsconfig), (.fsmount, .fsmount): true
    case (.moveMount, .moveMount), (.moveMount, .moveOverlayRoot): true
    case (.openTree, .openTreeClone), (.openTree, .openTreeDevice): true
    case (.fchdir, .fchdirParent), (.umount2, .umount2), (.mkdir, .mkdir), (.pivotRoot, .pivotRoot),
      (.chdir, .chdirRoot), (.rmdir, .rmdir), (.chroot, .chroot):
      true
    // open(2) of the box's cgroup.procs (`cgroup new`); a namespace file's open is no entry of
    // any plan, and a join that fails there is reported against its setns(2).
    case (.open, .openCgroupProcs): true
    // rtnetlink(7) requests and nft(8)'s batch both go out by sendmsg(2) on a netlink socket.
    case (.sendmsg, .rtnetlink), (.sendmsg, .nftables), (.socket, .socket): true
    default: false
    }
  }
}
