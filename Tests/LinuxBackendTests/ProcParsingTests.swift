import Testing

@testable import LinuxBackend

/// The /proc parsers that run after every step, on text as the kernel writes it, under a root given
/// as a parameter.
@Suite struct ProcParsingTests {
  let status = """
    Name:\tsleep
    Umask:\t0022
    State:\tS (sleeping)
    Tgid:\t4242
    NSpid:\t4242\t1
    Uid:\t100000\t100000\t100000\t100000
    Gid:\t0\t0\t0\t0
    CapPrm:\t000001ffffffffff
    CapEff:\t0000000000000000
    CapBnd:\t000001ffffffffff
    voluntary_ctxt_switches:\t1

    """

  @Test func statusFieldsAreTheWordsAfterTheKey() {
    let f = ProcStatus.fields(Array(status.utf8), ["Uid", "NSpid", "State", "CapEff", "Missing"])
    #expect(f["Uid"] == ["100000", "100000", "100000", "100000"])
    #expect(f["NSpid"] == ["4242", "1"])
    #expect(f["State"] == ["S", "(sleeping)"])
    #expect(f["CapEff"] == ["0000000000000000"])
    #expect(f["Missing"] == nil)
  }

  @Test func statusKeysMatchWholeNamesOnly() {
    // "Cap" is a prefix of three keys and the key of none; "Tgid" is not "Tgid:x".
    let f = ProcStatus.fields(Array(status.utf8), ["Cap", "Tgi", "Name"])
    #expect(f["Cap"] == nil)
    #expect(f["Tgi"] == nil)
    #expect(f["Name"] == ["sleep"])
    #expect(ProcStatus.fields([], ["Uid"]).isEmpty)
    #expect(ProcStatus.fields(Array("Uid:".utf8), ["Uid"]) == ["Uid": []])
  }

  @Test func mountinfoGivesMountPointsAndPropagation() {
    let text = """
      22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
      40 22 0:35 / /mnt rw,nosuid,nodev - tmpfs tmpfs rw
      41 22 0:36 / /with\\040space rw master:3 - tmpfs tmpfs rw
      42 22 0:37 / /both rw shared:4 master:5 - tmpfs tmpfs rw
      not a mountinfo line

      """
    #expect(
      Mountinfo.parse(text) == [
        Mountinfo.Entry(mountPoint: "/", propagation: .shared, fstype: "ext4", peerGroup: 1),
        Mountinfo.Entry(mountPoint: "/mnt", propagation: .private, fstype: "tmpfs"),
        Mountinfo.Entry(mountPoint: "/with space", propagation: .slave, fstype: "tmpfs", masterGroup: 3),
        Mountinfo.Entry(mountPoint: "/both", propagation: .slave, fstype: "tmpfs", peerGroup: 4, masterGroup: 5),
      ])
  }

  /// The peer group numbers are what ties a mount to its copies in other mount namespaces: a
  /// mount propagated to a peer namespace is in the same group there (`shared:N`), or a slave of
  /// it (`master:N`). A group number past Int's range is no group.
  @Test func mountinfoGivesPeerGroups() {
    let text = """
      50 40 0:40 / /opt rw shared:17 - tmpfs tmpfs rw
      51 41 0:40 / /opt rw master:17 - tmpfs tmpfs rw
      52 41 0:41 / /srv rw shared:99999999999999999999 - tmpfs tmpfs rw

      """
    let entries = Mountinfo.parse(text)
    #expect(entries.map(\.peerGroup) == [17, nil, nil])
    #expect(entries.map(\.masterGroup) == [nil, 17, nil])
    #expect(entries.map(\.propagation) == [.shared, .slave, .shared])
  }

  /// A box can mount on a directory whose name holds a tab or bytes that are not UTF-8: the
  /// mount point is spelled as every name is (FileName), so it matches the box's own path.
  @Test func mountinfoSpellsOddMountPointsAsFileNames() {
    let line = Array("43 22 0:38 / /a\\011b/c".utf8) + [0xff] + Array(" rw - tmpfs tmpfs rw\n".utf8)
    #expect(
      Mountinfo.parse(bytes: line) == [
        Mountinfo.Entry(mountPoint: "/a\\x09b/c\\xff", propagation: .private, fstype: "tmpfs")
      ])
  }
}
