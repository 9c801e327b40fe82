package io.cairn.backend.rocksdb;

import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Checksums;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Cairn's own record of how far a RocksDB directory had come, kept outside RocksDB so that damage
 * that makes RocksDB open an older state without complaint is noticed. A truncated MANIFEST, for
 * example, is read by RocksDB up to the cut and the database opens as of that older version: the
 * SST files recorded after the cut are no longer referenced, their data vanishes, and RocksDB even
 * deletes them as obsolete. RocksDB cannot tell, as the cut MANIFEST is self-consistent.
 *
 * <pre>
 * File CAIRN-ANCHOR in the data directory (0600, replaced atomically by write-temp, fsync, rename,
 * fsync directory), ASCII lines:
 *   manifest=MANIFEST-000012     the MANIFEST that CURRENT named when the anchor was written
 *   manifest-size=4711           its size then (a MANIFEST only grows until RocksDB replaces it)
 *   sequence=123456              RocksDB's last sequence number then (all of it durable)
 *   crc32c=1a2b3c4d              CRC-32C of the lines above, hex
 * </pre>
 *
 * <h2>When it is written and checked</h2>
 *
 * <ul>
 *   <li>Written right after every open (after WAL recovery, whose data RocksDB flushes to SST files
 *       during open, so the sequence recorded is durable) and at every clean close (after the final
 *       flush).
 *   <li>Before RocksDB opens: if CURRENT still names the anchor's MANIFEST and that file is shorter
 *       than recorded, the MANIFEST was truncated: refuse with {@link StoreCorruptedException}
 *       before RocksDB can delete anything, so restoring the MANIFEST recovers everything.
 *   <li>After RocksDB opened: its last sequence number must be at least the recorded one; lower
 *       means acknowledged, flushed writes are gone (MANIFEST, SST or WAL files deleted, truncated
 *       or replaced by older copies): refuse with {@link StoreCorruptedException}.
 *   <li>No anchor (a directory from an earlier Cairn, a restored checkpoint): nothing to compare, a
 *       fresh anchor is written. A damaged anchor is reported, never ignored.
 * </ul>
 *
 * Not covered: writes made after the last anchor that were only in the WAL (a crashed session's
 * active WAL truncated at a record boundary looks exactly like a crash before those writes). An
 * operator who restores an older copy of the directory on purpose deletes CAIRN-ANCHOR first; the
 * error message says so.
 */
final class Anchor {
  static final String FILE = "CAIRN-ANCHOR";

  private Anchor() {}

  record State(String manifest, long manifestSize, long sequence) {}

  /** The recorded state, or null if there is no anchor; a damaged anchor is corruption. */
  static State read(Path dir, String describe) {
    Path file = dir.resolve(FILE);
    String text;
    try {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        return null;
      }
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw damaged(file, describe, "it is not a regular file");
      }
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new StorageEngineException("Cannot read " + file + " of " + describe + ": " + e, e);
    }
    int crcAt = text.lastIndexOf("crc32c=");
    if (crcAt < 0) {
      throw damaged(file, describe, "it has no checksum line");
    }
    String body = text.substring(0, crcAt);
    String crc = text.substring(crcAt + "crc32c=".length()).strip();
    if (!crc.equals(crcHex(body))) {
      throw damaged(file, describe, "its checksum does not match");
    }
    Map<String, String> m = new HashMap<>();
    for (String line : body.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    try {
      return new State(
          m.get("manifest"),
          Long.parseLong(m.get("manifest-size")),
          Long.parseLong(m.get("sequence")));
    } catch (RuntimeException e) {
      throw damaged(file, describe, "a field is missing or not a number");
    }
  }

  /** Refuses a MANIFEST shorter than recorded, before RocksDB opens (and could delete files). */
  static void checkBeforeOpen(Path dir, String describe, State anchor) {
    if (anchor == null || anchor.manifest() == null) {
      return;
    }
    String current = currentManifest(dir);
    if (!anchor.manifest().equals(current)) {
      return; // replaced by RocksDB since; the sequence check after open still applies
    }
    Path manifest = dir.resolve(current);
    long size;
    try {
      size = Files.size(manifest);
    } catch (IOException e) {
      return; // missing: RocksDB itself refuses to open without the MANIFEST CURRENT names
    }
    if (size < anchor.manifestSize()) {
      throw new StoreCorruptedException(
          describe
              + ": the MANIFEST "
              + manifest
              + " is "
              + size
              + " bytes but was "
              + anchor.manifestSize()
              + " bytes when the backend last recorded its state in "
              + dir.resolve(FILE)
              + ". It was truncated or replaced by an older copy; RocksDB would open the older"
              + " version it describes and lose (and delete) the data files recorded after the"
              + " cut. Nothing was changed. Restore the MANIFEST or the directory from a backup."
              + " If you restored an older copy of this directory on purpose, delete "
              + FILE
              + " and open again.");
    }
  }

  /** Refuses an engine state older than the recorded one, after RocksDB opened. */
  static void checkAfterOpen(Path dir, String describe, State anchor, long sequence) {
    if (anchor != null && sequence < anchor.sequence()) {
      throw new StoreCorruptedException(
          describe
              + ": RocksDB recovered the database in "
              + dir
              + " only up to sequence number "
              + sequence
              + ", but it had reached "
              + anchor.sequence()
              + " (recorded in "
              + dir.resolve(FILE)
              + "): acknowledged writes are missing because a MANIFEST, SST or WAL file was"
              + " deleted, truncated or replaced by an older copy. Restore the directory from a"
              + " backup. If you restored an older copy of this directory on purpose, delete "
              + FILE
              + " and open again.");
    }
  }

  /** Records the current MANIFEST (name and size) and {@code sequence}; atomic and durable. */
  static void write(Path dir, long sequence) throws IOException {
    String manifest = currentManifest(dir);
    long size = manifest == null ? 0 : Files.size(dir.resolve(manifest));
    String body =
        "manifest="
            + (manifest == null ? "" : manifest)
            + "\nmanifest-size="
            + size
            + "\nsequence="
            + sequence
            + "\n";
    byte[] bytes = (body + "crc32c=" + crcHex(body) + "\n").getBytes(StandardCharsets.US_ASCII);
    Path tmp = dir.resolve(FILE + ".tmp");
    Files.deleteIfExists(tmp); // a leftover of a crash; deletes a link itself, never its target
    Set<OpenOption> options =
        Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW, LinkOption.NOFOLLOW_LINKS);
    try (FileChannel ch = create(tmp, options)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Directories cannot be fsynced on every platform; the rename is then as durable as the OS
      // makes it.
    }
  }

  private static FileChannel create(Path file, Set<OpenOption> options) throws IOException {
    try {
      return FileChannel.open(
          file,
          options,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      return FileChannel.open(file, options);
    }
  }

  /** The MANIFEST file name CURRENT points to, or null if CURRENT is absent or unreadable. */
  static String currentManifest(Path dir) {
    try {
      String c = Files.readString(dir.resolve("CURRENT"), StandardCharsets.US_ASCII).strip();
      return c.startsWith("MANIFEST-") && c.indexOf('/') < 0 ? c : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String crcHex(String body) {
    return Long.toHexString(Checksums.crc32c(body.getBytes(StandardCharsets.US_ASCII)));
  }

  private static StoreCorruptedException damaged(Path file, String describe, String why) {
    return new StoreCorruptedException(
        describe
            + ": Cairn's state record "
            + file
            + " is damaged ("
            + why
            + "), so Cairn cannot check that RocksDB opens the latest state. Restore the"
            + " directory from a backup, or delete "
            + FILE
            + " to accept the state RocksDB opens without that check.");
  }
}
