import Testing

@testable import Lab

/// The prose of a step whose blocks sit between its paragraphs: taking the blocks out must not
/// leave a hole of blank lines where each one was.
@Suite struct LessonProseTests {
  static let text = """
    ---
    id: prose
    title: t
    format: 1
    ---
    ## Box {#box}

    First paragraph.

    ```check
    web exists  ! no box web yet
    ```

    ```hint
    box new
    ```

    ```solution
    box new web
    ```

    Second paragraph.

    """

  @Test func oneBlankLineWhereTheBlocksWere() throws {
    let lesson = try Lesson.parse(path: "lessons/prose.md", text: Self.text)
    #expect(lesson.steps[0].before == ["First paragraph.", "", "Second paragraph."])
  }
}
