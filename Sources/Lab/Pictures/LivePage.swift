import Kernel

/// The live view's pages (docs/daemon.md, "The live view"): the export page's style and markup
/// (ExportPage), served by the daemon for a session and kept current by a small script that
/// follows the session's event stream. The daemon sends, after every step, a `view` event whose
/// data holds the step already drawn as the export page draws one (its command, what it printed,
/// the pictures of what it changed) and the pictures of the whole lab now; the script only puts
/// that markup in place, so the page and the export can never drift apart.
public enum LivePage {
  /// The data of the `view` event after a step: `{"step": section, "state": figures, "prompt":
  /// the prompt now}`, the markup escaped by the export page's renderer.
  public static func stepEvent(line: String, reply: Session.APIReply, session: Session) -> String {
    // A refused line changed nothing and drew nothing.
    let pictures = reply.ok ? Exporter.stepPictures(command: line, changes: reply.changes, session: session) : []
    let step = ExportStep(
      prompt: reply.prompt, command: line, output: reply.text.map(PictureStyle.withoutHighlight), pictures: pictures)
    var m = StateMap()
    m["step"] = .string(ExportPage.section(step, number: nil))
    m["state"] = .string(stateHTML(session, changes: reply.changes))
    m["prompt"] = .string(session.prompt)
    return JSON.encode(.map(m))
  }

  /// The data a page reloads after it lost its stream: the same `state` and `prompt`, with the
  /// changes of the session's last step marked.
  public static func current(_ session: Session) -> String {
    var m = StateMap()
    m["state"] = .string(stateHTML(session, changes: session.last?.changes))
    m["prompt"] = .string(session.prompt)
    return JSON.encode(.map(m))
  }

  /// Every picture of the lab now, as figures.
  static func stateHTML(_ session: Session, changes: [StateChange]?) -> String {
    Exporter.pictures(of: session, changes: changes).map(ExportPage.figure).joined(separator: "\n")
  }

  /// The page of one session: the lab now, then the steps run since the page was opened, newest
  /// first. `events` and `current` are the paths of the session's event stream and of
  /// `current(_:)`'s data, on the page's own origin; `nonce` is the script's, for the page's
  /// Content-Security-Policy.
  public static func page(
    id: String, backend: String, session: Session, events: String, current: String, nonce: String
  ) -> String {
    let body = [
      "<section class=\"live-state\"><h2>The lab now</h2>",
      "<p class=\"live-status\" id=\"live-status\" data-state=\"connecting\">connecting to the session…</p>",
      "<div id=\"live-pictures\">", stateHTML(session, changes: session.last?.changes), "</div></section>",
      "<h2>Steps</h2>",
      "<div id=\"live-steps\" data-steps=\"0\"><p class=\"caption\" id=\"live-waiting\">Each step run in this session "
        + "(from a REPL started with <code>boxwalk --host</code>, or through the API) appears here, newest first.</p></div>",
    ]
    return ExportPage.document(
      title: "boxwalk session \(id)",
      source: "live view of session \(PictureSVG.xml(id)) on the \(PictureSVG.xml(backend)) backend; "
        + "prompt <code id=\"live-prompt\">\(PictureSVG.xml(session.prompt))</code>",
      body: body, head: ["<style>", liveStyle, "</style>"],
      script: script(events: events, current: current), nonce: nonce)
  }

  /// What `GET /` shows: the sessions the reader may see, each with a link to its live view.
  public static func index(sessions: [(id: String, backend: String, prompt: String)]) -> String {
    var body: [String] = []
    if sessions.isEmpty {
      body.append(
        "<p id=\"no-sessions\">No sessions yet. Start one with <code>boxwalk --host unix:///PATH/OF/THE/SOCKET</code>"
          + " (or POST /v1/sessions), then reload this page.</p>")
    } else {
      body.append(
        "<table class=\"sessions\"><thead><tr><th>session</th><th>backend</th><th>prompt</th></tr></thead><tbody>")
      for s in sessions {
        let id = PictureSVG.xml(s.id)
        body.append(
          "<tr data-id=\"\(id)\"><td><a href=\"/v1/sessions/\(id)/view\">\(id)</a></td>"
            + "<td>\(PictureSVG.xml(s.backend))</td><td><code>\(PictureSVG.xml(s.prompt))</code></td></tr>")
      }
      body.append("</tbody></table>")
    }
    return ExportPage.document(
      title: "boxwalk daemon", source: "the sessions you may view, each updated live after every step", body: body,
      head: ["<style>", liveStyle, "</style>"])
  }

  static let liveStyle = """
    .live-state { border: 1px solid #ccc; border-radius: 4px; padding: 0 0.8rem 0.6rem; }
    .live-state h2 { margin-top: 0.6rem; }
    .live-status { font-size: 0.85rem; color: #666; }
    .live-status[data-state="live"]::before { content: "● "; color: #2a8a3e; }
    .live-status[data-state="closed"] { color: #b00; }
    table.sessions { border-collapse: collapse; } table.sessions td, table.sessions th { padding: 0.2rem 0.8rem; text-align: left; }
    """

  /// The page's one script: follows the event stream and puts each step's markup in place. It
  /// builds no markup of its own from data (the daemon escaped every name already), and it
  /// reaches only its own origin.
  static func script(events: String, current: String) -> String {
    """
    "use strict";
    (function () {
      var steps = document.getElementById("live-steps");
      var pictures = document.getElementById("live-pictures");
      var status = document.getElementById("live-status");
      var prompt = document.getElementById("live-prompt");
      var count = 0;
      var opened = false;
      function say(state, text) { status.setAttribute("data-state", state); status.textContent = text; }
      function show(view) {
        pictures.innerHTML = view.state;
        prompt.textContent = view.prompt;
      }
      var source = new EventSource(\(JSON.quote(events)));
      source.addEventListener("open", function () {
        say("live", "live: redrawn after every step");
        // A stream that came back may have missed steps: the lab now, read again.
        if (opened) {
          fetch(\(JSON.quote(current)), { cache: "no-store" }).then(function (r) { return r.json(); }).then(show,
            function () {});
        }
        opened = true;
      });
      source.addEventListener("view", function (event) {
        var view = JSON.parse(event.data);
        var holder = document.createElement("div");
        holder.innerHTML = view.step;
        var section = holder.firstElementChild;
        count += 1;
        section.id = "step-" + count;
        section.setAttribute("data-step", String(count));
        var waiting = document.getElementById("live-waiting");
        if (waiting) { waiting.remove(); }
        steps.insertBefore(section, steps.firstChild);
        steps.setAttribute("data-steps", String(count));
        show(view);
      });
      source.addEventListener("closed", function () {
        source.close();
        say("closed", "the session was closed");
      });
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) { say("closed", "the daemon closed the stream"); }
        else { say("connecting", "reconnecting…"); }
      });
    })();
    """
  }
}
