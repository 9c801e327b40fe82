package io.cairn.pekko;

import io.cairn.persistence.StoreCorruptedException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A minimal length-checked binary encoding for the values the plugins store: fixed-width numbers
 * big-endian, strings and blobs as a 4-byte length followed by the bytes. {@link Reader} checks
 * every length against what is left and {@link Reader#end} that nothing is left over, so a value
 * that is not what we wrote (a foreign or damaged entry the backend's checksums did not catch, or a
 * format from a newer plugin) fails with {@link StoreCorruptedException} naming where, never
 * decodes into wrong data.
 */
final class Records {
  private Records() {}

  /** Appends fields to a growing byte array. */
  static final class Writer {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    private final DataOutputStream out = new DataOutputStream(bytes);

    Writer u8(int v) {
      try {
        out.writeByte(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e); // cannot happen: in memory
      }
      return this;
    }

    Writer i32(int v) {
      try {
        out.writeInt(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Writer i64(long v) {
      try {
        out.writeLong(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Writer str(String s) {
      return blob(s.getBytes(StandardCharsets.UTF_8));
    }

    Writer blob(byte[] b) {
      i32(b.length);
      try {
        out.write(b);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    byte[] toByteArray() {
      return bytes.toByteArray();
    }
  }

  /** Reads fields back, naming {@code where} (store and key) in every failure. */
  static final class Reader {
    private final ByteBuffer buf;
    private final String where;

    Reader(byte[] value, String where) {
      this.buf = ByteBuffer.wrap(value);
      this.where = where;
    }

    int u8() {
      try {
        return buf.get() & 0xff;
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    int i32() {
      try {
        return buf.getInt();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    long i64() {
      try {
        return buf.getLong();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    String str() {
      return new String(blob(), StandardCharsets.UTF_8);
    }

    byte[] blob() {
      int len = i32();
      if (len < 0 || len > buf.remaining()) {
        throw new StoreCorruptedException(
            where
                + ": a field claims "
                + len
                + " bytes but "
                + buf.remaining()
                + " remain; the entry is damaged or was not written by cairn-pekko. "
                + "Restore it from a backup or delete the entry.");
      }
      byte[] b = new byte[len];
      buf.get(b);
      return b;
    }

    /** Checks the format byte. */
    void format(int expected) {
      int f = u8();
      if (f != expected) {
        throw new StoreCorruptedException(
            where
                + ": unknown record format "
                + f
                + " (this cairn-pekko writes and reads format "
                + expected
                + "); the entry was written by a newer cairn-pekko or is damaged.");
      }
    }

    /** Checks that the whole value was consumed. */
    void end() {
      if (buf.hasRemaining()) {
        throw new StoreCorruptedException(
            where
                + ": "
                + buf.remaining()
                + " unexpected trailing bytes; the entry is damaged or was not written by"
                + " cairn-pekko.");
      }
    }

    private StoreCorruptedException truncated() {
      return new StoreCorruptedException(
          where + ": the entry ends early; it is damaged or was not written by cairn-pekko.");
    }
  }
}
