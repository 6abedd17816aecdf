import Kernel

/// `image rm NAME` and `layer rm NAME`. What may go is decided here, from the kernel's facts, so
/// both kernels refuse the same things with the same words; the kernels only remove.
extension Session {
  /// The layers of each image, top first.
  func imageLayers() -> [(image: String, layers: [String])] {
    imageNames().map { image in (image, storedImage(image)?.layers ?? []) }
  }

  /// The boxes whose root filesystem is an overlay with `layer` among its lower layers.
  func boxesUsing(layer: String) -> [String] {
    boxNames.filter { facts.box($0)?.process.fs?.layers.contains(layer) == true }
  }

  func imageRemove(_ args: [String], line: String, into out: inout Output) throws {
    try arity("image rm", args, 1)
    try refresh()
    let name = try existingImage(args[0])
    let image = try ImageName.parse(name).get()
    if image.description == BusyboxImage.name || image == ImageName(name: BusyboxImage.name) {
      throw LabError(
        "busybox is the base image: boxwalk builds it from this machine's busybox-static and cannot remove it",
        [("fix", "image rm the images made from it; image prune removes what they leave"), LabError.unchanged])
    }
    let all = imageLayers()
    let own = all.first { $0.image == name }?.layers ?? []
    let others = all.filter { $0.image != name }
    // Another image built on this one: its bottom layers are exactly this image's layers.
    if let child = others.first(where: { $0.layers.count > own.count && Array($0.layers.suffix(own.count)) == own }) {
      throw LabError(
        "image \(name) is in use: image \(child.image) is built on it",
        [
          ("why", "\(child.image)'s bottom layers are \(name)'s (\(own.joined(separator: " "))): it needs them"),
          ("fix", "image rm \(child.image) first"), LabError.unchanged,
        ])
    }
    let unshared = own.filter { layer in !others.contains { $0.layers.contains(layer) } }
    for layer in unshared {
      let boxes = boxesUsing(layer: layer)
      guard boxes.isEmpty else {
        throw LabError(
          "image \(name) is in use: box \(boxes.joined(separator: ", box ")) runs on its layer \(layer)",
          [
            ("why", "overlayfs reads a box's lower layers for as long as the box lives"),
            ("fix", "box rm \(boxes[0]) first"), LabError.unchanged,
          ])
      }
    }
    try runStep(.layer(.imageRemove(image: image, layers: unshared)), input: line, into: &out)
  }

  func layerRemove(_ args: [String], line: String, into out: inout Output) throws {
    try arity("layer rm", args, 1)
    try refresh()
    let name = args[0]
    guard storedLayer(name) != nil else {
      var details: [(String, String)] = [("layers", layerNames().joined(separator: " "))]
      if let near = Nearest.match(name, in: layerNames()) { details.append(("did you mean", near)) }
      details.append(LabError.unchanged)
      throw LabError("no layer named \(quotedForTerminal(name))", details)
    }
    let images = imageLayers().filter { $0.layers.contains(name) }.map(\.image)
    if !images.isEmpty {
      throw LabError(
        "layer \(name) is in use: image \(images.joined(separator: ", image ")) names it",
        [
          ("why", "an image is its layers: without this one it would be broken"),
          ("fix", "image rm \(images[0]) removes the image, and its layers no other image uses"), LabError.unchanged,
        ])
    }
    let boxes = boxesUsing(layer: name)
    if !boxes.isEmpty {
      throw LabError(
        "layer \(name) is in use: box \(boxes.joined(separator: ", box ")) runs on it",
        [
          ("why", "overlayfs reads a box's lower layers for as long as the box lives"),
          ("fix", "box rm \(boxes[0]) first"), LabError.unchanged,
        ])
    }
    try runStep(.layer(.layerRemove(name: name)), input: line, into: &out)
  }
}
