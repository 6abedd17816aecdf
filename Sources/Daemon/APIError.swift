import Hummingbird
import Kernel

/// An error the API answers with: an HTTP status and the JSON body
/// `{"error": {"message": ..., "field": ..., "fix": ...}}` (docs/daemon.md). `field` names the
/// part of the request that was wrong (a JSON member, `body`, a path parameter) and is left out
/// when no one part is to blame.
public struct APIError: Error, Sendable, Equatable {
  public var status: HTTPResponse.Status
  public var message: String
  public var field: String?
  public var fix: String

  public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, fix: String) {
    self.status = status
    self.message = message
    self.field = field
    self.fix = fix
  }

  var json: String {
    var detail = StateMap()
    detail["message"] = .string(message)
    if let field { detail["field"] = .string(field) }
    detail["fix"] = .string(fix)
    var m = StateMap()
    m["error"] = .map(detail)
    return JSON.encode(.map(m))
  }

  var response: Response { Response.json(json, status: status) }
}

extension Response {
  /// A JSON body, already encoded, with its content type.
  static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
  }
}
