import Kernel

/// Shared subtrees across mount namespaces (mount_namespaces(7), "Shared subtrees"). A shared
/// mount belongs to a peer group; a mount or unmount made under any member of the group is
/// repeated under every other member, in whatever mount namespace it is, and under every slave
/// of the group. Peers across namespaces come from copying: `unshare mnt --propagation
/// unchanged` leaves each shared mount of the copy in the peer group of the mount it was copied
/// from (boxwalk's plain `unshare mnt` makes the copy private at once, as runc and unshare(1) do).
///
/// The model follows mounts in the host's tree (a box's paths before it has a root filesystem):
/// a peer in another namespace receives a copy at the same path. Mounts inside a box's root
/// filesystem are never copied to another namespace's view, since no other box's paths reach them.
extension SimulatedKernel {
  /// What /proc/PID/mountinfo calls a mount with these groups: `master:N` makes it a slave
  /// (even when it is shared too), `shared:N` shared, neither private.
  static func shownPropagation(peer: Int?, master: Int?) -> Propagation {
    if master != nil { return .slave }
    return peer != nil ? .shared : .private
  }

  /// The groups of a mount copied into a new mount namespace that keeps the old propagation:
  /// the same, unless the new namespace belongs to a less privileged user namespace, where the
  /// kernel turns shared into slave (CL_SHARED_TO_SLAVE in copy_mnt_ns, fs/namespace.c) so that
  /// nothing made there can propagate back to the more privileged one.
  static func copiedGroups(_ peer: Int?, _ master: Int?, locks: Bool) -> (Int?, Int?) {
    guard locks, let peer else { return (peer, master) }
    return (nil, peer)
  }

  func newPeerGroup() -> Int {
    defer { nextPeerGroup += 1 }
    return nextPeerGroup
  }

  /// The peer group and master of the mount a new mount at `path` would be made under: the
  /// topmost mount above `path` in `tree`, or the namespace's "/" in the host's tree.
  func parentGroups(of path: String, in tree: SimRoot, _ mnt: SimNamespace) -> (peer: Int?, master: Int?) {
    if let parent = mnt.mounts.last(where: { m in
      m.root == tree && (m.path == "/" || path.hasPrefix(m.path + "/")) && m.path != path
    }) {
      return (parent.peer, parent.master)
    }
    return tree == .host ? (mnt.rootPeer, mnt.rootMaster) : (nil, nil)
  }

  /// After `mount` was made in namespace `origin` under a mount of peer group `group`: every
  /// other namespace whose mount at that place is a peer of the group, or a slave of it, gets a
  /// copy. The copies are peers of the new mount (slaves of it under a slave), as the kernel's
  /// propagate_mnt() makes them.
  func propagateMount(_ mount: SimMount, from origin: UInt64, group: Int) {
    guard mount.root == .host else { return }
    for (inode, ns) in namespaces where inode != origin && ns.kind == .mnt {
      let receiver = parentGroups(of: mount.path, in: .host, ns)
      guard receiver.peer == group || receiver.master == group else { continue }
      var copy = mount
      copy.locked = false
      if receiver.peer != group {
        (copy.peer, copy.master) = (nil, mount.peer)
      }
      copy.propagation = Self.shownPropagation(peer: copy.peer, master: copy.master)
      namespaces[inode]?.mounts.append(copy)
    }
  }

  /// After an unmount at `path` in namespace `origin`, under a mount of peer group `group`: the
  /// mount at the same place under every peer and slave of the group goes too
  /// (propagate_umount() in fs/namespace.c), unless it is locked there.
  func propagateUmount(_ path: String, from origin: UInt64, group: Int) {
    for (inode, ns) in namespaces where inode != origin && ns.kind == .mnt {
      let receiver = parentGroups(of: path, in: .host, ns)
      guard receiver.peer == group || receiver.master == group else { continue }
      guard let j = ns.mounts.lastIndex(where: { $0.root == .host && $0.path == path }), !ns.mounts[j].locked
      else { continue }
      namespaces[inode]?.mounts.remove(at: j)
    }
  }

  /// How MS_SHARED, MS_PRIVATE or MS_SLAVE changes one mount's groups. Shared: a new peer group
  /// unless it is in one already. Private: out of every group. Slave: receive from the group it
  /// was a peer of, if any other mount is still in it; a lone member has nothing to receive from
  /// and becomes private (mount_namespaces(7), "MS_SLAVE").
  func changedGroups(_ mode: Propagation, peer: Int?, master: Int?, othersInGroup: Bool) -> (Int?, Int?) {
    switch mode {
    case .shared: return (peer ?? newPeerGroup(), master)
    case .private: return (nil, nil)
    case .slave:
      guard let peer else { return (nil, master) }
      return (nil, othersInGroup ? peer : master)
    }
  }

  /// Every slave of `group` (a "/" or a mount, in any namespace) becomes a slave of `master`
  /// instead, or, when that is nil, stops being a slave.
  func releaseSlaves(of group: Int, to master: Int?) {
    for (inode, ns) in namespaces where ns.kind == .mnt {
      var ns = ns
      var changed = false
      if ns.rootMaster == group {
        ns.rootMaster = master
        ns.rootPropagation = Self.shownPropagation(peer: ns.rootPeer, master: master)
        changed = true
      }
      for j in ns.mounts.indices where ns.mounts[j].master == group {
        ns.mounts[j].master = master
        ns.mounts[j].propagation = Self.shownPropagation(peer: ns.mounts[j].peer, master: master)
        changed = true
      }
      if changed { namespaces[inode] = ns }
    }
  }

  /// How many mounts, in every mount namespace, are in peer group `group` ("/"s included).
  func membersOfGroup(_ group: Int) -> Int {
    namespaces.values.reduce(0) { count, ns in
      count + (ns.rootPeer == group ? 1 : 0) + ns.mounts.filter { $0.peer == group }.count
    }
  }
}
