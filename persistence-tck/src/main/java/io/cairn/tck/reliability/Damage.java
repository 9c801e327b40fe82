package io.cairn.tck.reliability;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * One case of the {@link CorruptionMatrix}: a kind of damage done to one file of a copy of the data
 * directory (or to the whole directory).
 *
 * @param file the file, relative to the data directory, {@code "/"} for the directory itself, or
 *     {@code ""} for the undamaged control
 * @param kind what is done
 * @param offset byte offset for {@link Kind#FLIP_BYTE} and {@link Kind#FLIP_BIT}, else -1
 * @param region what the offset points at ({@code start}, {@code middle}, {@code end}, {@code key},
 *     {@code value}, an engine region such as {@code wal frame 2 checksum}), or {@code ""}
 */
public record Damage(String file, Kind kind, long offset, String region) {
  /** Kinds of damage. */
  public enum Kind {
    /** Nothing: the negative control, which must come out {@link Outcome#INTACT}. */
    NONE,
    /** Every bit of one byte inverted. */
    FLIP_BYTE,
    /** The lowest bit of one byte inverted: in a decimal digit, the neighbouring digit. */
    FLIP_BIT,
    /** The file cut to half its length (a torn write of a tail, a partial copy). */
    TRUNCATE_HALF,
    /** The file cut to zero bytes. */
    TRUNCATE_ZERO,
    /** The file deleted. */
    DELETE_FILE,
    /** The whole data directory deleted. */
    DELETE_DIR
  }

  public Damage {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(region, "region");
  }

  static Damage none() {
    return new Damage("", Kind.NONE, -1, "");
  }

  /** A readable id, e.g. {@code cairn.db-wal flip-bit@4152 (wal frame 1 checksum)}. */
  public String id() {
    return switch (kind) {
      case NONE -> "(undamaged control)";
      case DELETE_DIR -> "data directory deleted";
      default ->
          file
              + " "
              + kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
              + (offset >= 0 ? "@" + offset : "")
              + (region.isEmpty() ? "" : " (" + region + ")");
    };
  }

  /** Applies the damage to the data directory {@code root} (a copy). */
  void apply(Path root) throws IOException {
    Path target = root.resolve(file);
    switch (kind) {
      case NONE -> {}
      case FLIP_BYTE, FLIP_BIT -> {
        try (RandomAccessFile raf = new RandomAccessFile(target.toFile(), "rw")) {
          raf.seek(offset);
          int old = raf.read();
          if (old < 0) {
            throw new IOException(target + " has no byte at offset " + offset);
          }
          raf.seek(offset);
          raf.write(old ^ (kind == Kind.FLIP_BYTE ? 0xFF : 0x01));
        }
      }
      case TRUNCATE_HALF, TRUNCATE_ZERO -> {
        try (RandomAccessFile raf = new RandomAccessFile(target.toFile(), "rw")) {
          raf.setLength(kind == Kind.TRUNCATE_ZERO ? 0 : raf.length() / 2);
        }
      }
      case DELETE_FILE -> Files.delete(target);
      case DELETE_DIR -> deleteTree(root);
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  @Override
  public String toString() {
    return id();
  }
}
