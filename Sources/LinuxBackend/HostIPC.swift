import CShim
import Glibc
import Kernel

/// System V IPC objects in the host's IPC namespace (this process's): those a box that shares it
/// made are recorded in the ledger and removed at teardown (sysvipc(7), IPC_RMID).
enum HostIPC {
  static let kinds = ["mq", "shm", "sem"]

  /// Every object of the calling process's IPC namespace, as (kind, key, id).
  static func list() -> [(kind: String, key: Int32, id: Int32)] {
    var out: [(String, Int32, Int32)] = []
    var objects = [bw_ipc_object](repeating: bw_ipc_object(), count: 1024)
    for (k, kind) in kinds.enumerated() {
      let n = bw_ipc_list(Int32(k), &objects, Int32(objects.count))
      for i in 0..<max(0, Int(n)) { out.append((kind, objects[i].key, objects[i].id)) }
    }
    return out
  }

  /// Removes the object only if the id still holds the recorded key: an id reused for someone
  /// else's object is left alone.
  static func remove(kind: String, key: Int32, id: Int32) -> String {
    guard let k = kinds.firstIndex(of: kind) else { return "ipc \(kind): unknown kind, left alone" }
    let name = "\(kind) \(IPCObjectFacts.keyText(key)) (id \(id))"
    guard list().contains(where: { $0.kind == kind && $0.key == key && $0.id == id }) else {
      return "\(name): already gone"
    }
    return bw_ipc_remove(Int32(k), id) == 0
      ? "removed \(name)" : "could not remove \(name): \(Errno(rawValue: errno).name)"
  }

  /// Whether the POSIX message queue `name` of the host's IPC namespace is still the one with
  /// this inode (mq_open(3) O_RDONLY, fstat(2)): a queue removed with mq_unlink(3) is gone, and
  /// one made again under the same name by someone else is not ours.
  static func queueExists(name: String, inode: UInt64) -> Bool {
    var now: UInt64 = 0
    return bw_mq_inode(name, &now) == 0 && now == inode
  }

  /// mq_unlink(3) of a queue boxwalk made in the host's IPC namespace, only if the name still
  /// holds the queue with the recorded inode.
  static func removeQueue(name: String, inode: UInt64) -> String {
    let shown = "posix_mq \(name)"
    guard queueExists(name: name, inode: inode) else { return "\(shown): already gone" }
    return bw_mq_unlink(name) == 0 ? "removed \(shown)" : "could not remove \(shown): \(Errno(rawValue: errno).name)"
  }
}
