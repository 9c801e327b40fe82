package io.cairn.tck;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Looking at a backend's files byte by byte, for tests that must prove what is and is not on disk
 * (plaintext under encryption, where damage can be placed). Read whole files: for test data only.
 */
public final class RawFiles {
  private RawFiles() {}

  /** Every regular file under {@code root} (none if it does not exist) holding {@code needle}. */
  public static List<Path> containing(Path root, byte[] needle) throws IOException {
    List<Path> hits = new ArrayList<>();
    if (!Files.exists(root)) {
      return hits;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        if (indexOf(Files.readAllBytes(p), needle) >= 0) {
          hits.add(p);
        }
      }
    }
    return hits;
  }

  /** The first index of {@code needle} in {@code hay}, or -1. */
  public static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
