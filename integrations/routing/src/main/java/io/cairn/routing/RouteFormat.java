package io.cairn.routing;

import io.cairn.persistence.StoreCorruptedException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Encodes and decodes route-table log records and snapshots. The byte layouts are documented at the
 * top of {@link RouteTable}, which owns them; this class only implements them. Decoding failures
 * throw {@link Corrupt} (a checked exception) so the caller can name the store and offset or
 * snapshot version in the {@link StoreCorruptedException} it throws.
 */
final class RouteFormat {
  static final byte FORMAT_VERSION = 1;
  static final byte OP_PUT = 1;
  static final byte OP_REMOVE = 2;
  static final byte[] SNAPSHOT_MAGIC = {'C', 'R', 'T', 'S'};

  // Bounds that stop garbage from being read as huge lengths.
  private static final int MAX_STRING_BYTES = 1 << 20;

  private RouteFormat() {}

  /** A decoding failure; the message says what was wrong. */
  static final class Corrupt extends Exception {
    private static final long serialVersionUID = 1L;

    Corrupt(String message) {
      super(message);
    }
  }

  /** A decoded log record: a put ({@code route != null}) or a removal of {@code key}. */
  record Change(String key, Route route) {}

  static byte[] encodePut(Route route) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT_VERSION);
      out.writeByte(OP_PUT);
      writeString(out, route.key());
      writeBody(out, route);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen: in-memory stream
    }
    return bytes.toByteArray();
  }

  static byte[] encodeRemove(String key) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + key.length());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT_VERSION);
      out.writeByte(OP_REMOVE);
      writeString(out, key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Decodes a log record; the route of a put carries {@code version}. */
  static Change decodeChange(byte[] payload, long version) throws Corrupt {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(payload))) {
      checkFormat(in.readByte());
      byte op = in.readByte();
      String key = readString(in);
      Change change;
      if (op == OP_PUT) {
        change = new Change(key, readBody(in, key, version));
      } else if (op == OP_REMOVE) {
        change = new Change(key, null);
      } else {
        throw new Corrupt("unknown operation code " + op + " (expected 1 = put or 2 = remove)");
      }
      if (in.read() != -1) {
        throw new Corrupt("has trailing bytes after the change");
      }
      return change;
    } catch (EOFException e) {
      throw new Corrupt("ends in the middle of a change (" + payload.length + " bytes)");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes a snapshot of {@code routes} (ascending by key) covering log offsets below {@code
   * covered}.
   */
  static void writeSnapshot(OutputStream target, long covered, Map<String, Route> routes)
      throws IOException {
    CRC32C crc = new CRC32C();
    DataOutputStream out = new DataOutputStream(new CheckedOutputStream(target, crc));
    out.write(SNAPSHOT_MAGIC);
    out.writeByte(FORMAT_VERSION);
    out.writeLong(covered);
    out.writeLong(routes.size());
    for (Route r : routes.values()) {
      writeString(out, r.key());
      out.writeLong(r.version());
      writeBody(out, r);
    }
    out.flush();
    new DataOutputStream(target).writeInt((int) crc.getValue());
  }

  /**
   * Reads a snapshot to end-of-stream (so the store's own checksum is checked too), handing each
   * route to {@code sink} in key order. Returns the covered offset.
   */
  static long readSnapshot(InputStream source, long expectedCovered, BiConsumer<String, Route> sink)
      throws Corrupt, IOException {
    CRC32C crc = new CRC32C();
    // Checksum above the buffer, so read-ahead bytes (the trailer) are not summed early.
    DataInputStream in =
        new DataInputStream(
            new CheckedInputStream(new java.io.BufferedInputStream(source, 64 * 1024), crc));
    try {
      byte[] magic = new byte[4];
      in.readFully(magic);
      if (!java.util.Arrays.equals(magic, SNAPSHOT_MAGIC)) {
        throw new Corrupt("does not start with the route snapshot magic 'CRTS'");
      }
      checkFormat(in.readByte());
      long covered = in.readLong();
      if (covered != expectedCovered) {
        throw new Corrupt(
            "says it covers log offsets below "
                + covered
                + " but is stored as version "
                + expectedCovered);
      }
      long count = in.readLong();
      if (count < 0) {
        throw new Corrupt("has a negative route count " + count);
      }
      String previous = null;
      for (long i = 0; i < count; i++) {
        String key = readString(in);
        if (previous != null && previous.compareTo(key) >= 0) {
          throw new Corrupt("has route keys out of order at route " + i);
        }
        long version = in.readLong();
        if (version <= 0 || version > covered) {
          throw new Corrupt(
              "has route '" + key + "' with version " + version + " outside 1.." + covered);
        }
        sink.accept(key, readBody(in, key, version));
        previous = key;
      }
      int computed = (int) crc.getValue();
      int stored = in.readInt(); // the trailer itself is not covered by the checksum

      if (stored != computed) {
        throw new Corrupt(
            String.format("has checksum %08x but its contents give %08x", stored, computed));
      }
      if (in.read() != -1) {
        throw new Corrupt("has trailing bytes after its checksum");
      }
      return covered;
    } catch (EOFException e) {
      throw new Corrupt("ends early (truncated)");
    }
  }

  private static void writeBody(DataOutputStream out, Route r) throws IOException {
    writeString(out, r.policy().name());
    out.writeInt(r.targets().size());
    for (Route.Target t : r.targets()) {
      writeString(out, t.address());
      out.writeInt(t.weight());
    }
    out.writeInt(r.metadata().size());
    for (Map.Entry<String, String> e : r.metadata().entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
  }

  private static Route readBody(DataInputStream in, String key, long version)
      throws IOException, Corrupt {
    String policyName = readString(in);
    Route.Policy policy;
    try {
      policy = Route.Policy.valueOf(policyName);
    } catch (IllegalArgumentException e) {
      throw new Corrupt("has unknown policy '" + policyName + "' for route '" + key + "'");
    }
    try {
      Route.Builder b = Route.builder(key).policy(policy);
      int targets = readCount(in, Route.MAX_TARGETS, "targets");
      for (int i = 0; i < targets; i++) {
        String address = readString(in);
        b.target(address, in.readInt());
      }
      int meta = readCount(in, Route.MAX_METADATA, "metadata entries");
      for (int i = 0; i < meta; i++) {
        b.metadata(readString(in), readString(in));
      }
      return b.build().withVersion(version);
    } catch (IllegalArgumentException e) {
      throw new Corrupt("holds an invalid route '" + key + "': " + e.getMessage());
    }
  }

  private static int readCount(DataInputStream in, int max, String what)
      throws IOException, Corrupt {
    int n = in.readInt();
    if (n < 0 || n > max) {
      throw new Corrupt("has " + n + " " + what + " (allowed 0.." + max + ")");
    }
    return n;
  }

  private static void checkFormat(byte format) throws Corrupt {
    if (format != FORMAT_VERSION) {
      throw new Corrupt(
          "has format version "
              + format
              + " but this Cairn reads only version "
              + FORMAT_VERSION
              + " (written by a newer Cairn, or damaged)");
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException, Corrupt {
    int n = in.readInt();
    if (n < 0 || n > MAX_STRING_BYTES) {
      throw new Corrupt("has a string length " + n + " outside 0.." + MAX_STRING_BYTES);
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
