/// What tools outside this module need to compare sessions exactly as `boxwalk test` does, and to
/// write what a session printed as a transcript that replays it: the differential tester
/// (Sources/BoxwalkDiffTest) compares a simulated and a real run of the same commands with these,
/// so a difference it reports is one `boxwalk test` would report too, and nothing else.
public enum TranscriptComparison {
  /// The lines a session printed for one command, as the transcript matcher compares them:
  /// trailing blank lines dropped, trailing whitespace stripped, runs of spaces and tabs collapsed
  /// (docs/transcripts.md, "What is volatile").
  public static func comparable(_ printed: [String]) -> [String] {
    TranscriptNormalizer.output(printed).map(TranscriptNormalizer.line)
  }

  /// One step of a transcript file: the input line (`  boxwalk[web]> hostname`) and the output,
  /// each output line written so that it matches itself literally (`{{` and the whole-line forms
  /// `...`, ` (?)` and `boxwalk>` escaped).
  public static func stepLines(prompt: String, command: String, output: [String]) -> [String] {
    let bindings = TranscriptBindings()
    return [TranscriptRunner.indent(TranscriptRunner.inputLine(prompt: prompt, command: command))]
      + TranscriptNormalizer.output(output).map { TranscriptRunner.indent(TranscriptUpdater.express($0, bindings)) }
  }
}
