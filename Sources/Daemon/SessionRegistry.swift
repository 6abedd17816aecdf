import Kernel

/// The daemon's sessions: who owns each, which backend it runs, and the thread that runs it.
/// Each entry is a lab session of its own with a kernel of its own, so sessions never see each
/// other's boxes.
public actor SessionRegistry {
  struct Entry: Sendable {
    var id: String
    var owner: UInt32
    var backend: Backend
    var worker: LabWorker
    /// Who follows the session's steps (GET /v1/sessions/{id}/events).
    var events = SessionEvents()
  }

  private var entries: [String: Entry] = [:]
  /// Creation order, for listings.
  private var order: [String] = []

  public init() {}

  public var count: Int { entries.count }

  func count(ownedBy uid: UInt32) -> Int { entries.values.filter { $0.owner == uid }.count }

  func add(_ entry: Entry) {
    entries[entry.id] = entry
    order.append(entry.id)
  }

  func entry(_ id: String) -> Entry? { entries[id] }

  func remove(_ id: String) -> Entry? {
    order.removeAll { $0 == id }
    return entries.removeValue(forKey: id)
  }

  /// The sessions `peer` may see: its own, or all for root.
  func visible(to peer: PeerCredentials) -> [Entry] {
    order.compactMap { entries[$0] }.filter { peer.isRoot || $0.owner == peer.uid }
  }

  /// Tears down every session (the daemon is stopping): each on its own thread, all at once.
  public func closeAll() async {
    let all = order.compactMap { entries[$0] }
    entries = [:]
    order = []
    await withTaskGroup(of: Void.self) { group in
      for entry in all {
        group.addTask {
          entry.events.finish()
          await entry.worker.close()
        }
      }
    }
  }

  /// A new session id: 12 hex digits from the system's random source, so ids are not guessable
  /// (ownership is still checked on every request).
  static func newID() -> String {
    var g = SystemRandomNumberGenerator()
    let n = g.next() & 0xffff_ffff_ffff
    let hex = String(n, radix: 16)
    return String(repeating: "0", count: 12 - hex.count) + hex
  }
}
