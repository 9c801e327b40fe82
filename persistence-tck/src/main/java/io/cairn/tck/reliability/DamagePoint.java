package io.cairn.tck.reliability;

import java.util.List;

/**
 * A byte offset in an engine file worth damaging, named after what it holds.
 *
 * @param region what lies there, e.g. {@code wal frame 3 salt}
 * @param offset the byte offset
 */
public record DamagePoint(String region, long offset) {
  /**
   * Engine-specific damage points, supplied by a backend's test: the matrix flips bits at the
   * points returned for each file, in addition to the generic start, middle, end and the located
   * key, value, log record and snapshot bytes.
   */
  @FunctionalInterface
  public interface Finder {
    /** No engine-specific points. */
    Finder NONE = (file, content) -> List.of();

    /**
     * @param file the file's path relative to the data directory, with {@code /} separators
     * @param content the file's bytes
     * @return points inside {@code content} (offsets outside it are ignored)
     */
    List<DamagePoint> points(String file, byte[] content);
  }
}
