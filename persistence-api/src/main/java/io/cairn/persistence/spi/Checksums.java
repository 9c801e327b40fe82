package io.cairn.persistence.spi;

import io.cairn.persistence.StoreCorruptedException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32C;

/** CRC-32C helpers so every backend checksums snapshots the same way. */
public final class Checksums {
  private Checksums() {}

  public static long crc32c(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    return crc.getValue();
  }

  public static long crc32c(byte[] data) {
    return crc32c(data, 0, data.length);
  }

  /**
   * Wraps a snapshot stream so that, at end of data, the CRC-32C and length are compared with the
   * stored ones and a mismatch throws {@link StoreCorruptedException} instead of reporting
   * end-of-stream. {@code where} names the snapshot for the message.
   */
  public static InputStream verifying(
      InputStream in, long expectedCrc, long expectedLength, String where) {
    return new FilterInputStream(in) {
      private final CRC32C crc = new CRC32C();
      private long length;
      private boolean checked;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          crc.update(b, off, n);
          length += n;
          if (length > expectedLength) {
            throw corrupt("is longer than its recorded " + expectedLength + " bytes");
          }
        } else if (n < 0 && !checked) {
          checked = true;
          if (length != expectedLength) {
            throw corrupt("ended after " + length + " of " + expectedLength + " bytes");
          }
          if (crc.getValue() != expectedCrc) {
            throw corrupt(
                String.format(
                    "has CRC-32C %08x but %08x was recorded", crc.getValue(), expectedCrc));
          }
        }
        return n;
      }

      @Override
      public long skip(long n) throws IOException {
        byte[] buf = new byte[8192];
        long done = 0;
        while (done < n) {
          int r = read(buf, 0, (int) Math.min(buf.length, n - done));
          if (r < 0) {
            break;
          }
          done += r;
        }
        return done;
      }

      @Override
      public boolean markSupported() {
        return false;
      }

      private StoreCorruptedException corrupt(String what) {
        return new StoreCorruptedException(
            "Snapshot "
                + where
                + " "
                + what
                + "; it is corrupt. Load an older snapshot (SnapshotStore.list()) or restore"
                + " from a backup, and run 'cairn verify'.");
      }
    };
  }
}
