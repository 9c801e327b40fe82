package io.cairn.backend.rocksdb;

import io.cairn.tck.reliability.CorruptionMatrixContract;
import io.cairn.tck.reliability.DamagePoint;
import java.util.ArrayList;
import java.util.List;

/**
 * The TCK corruption matrix on RocksDB, with RocksDB's own damage points: record headers (CRC,
 * length, type) and payloads in the write-ahead logs ({@code *.log}) and the {@code MANIFEST-*}
 * (both use the log format of 32 KiB blocks), and the footer of every table file ({@code *.sst}:
 * magic number, format version, block handles). Formats:
 * https://github.com/facebook/rocksdb/wiki/Write-Ahead-Log-File-Format and
 * https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format.
 */
class RocksDbCorruptionMatrixTest extends CorruptionMatrixContract {
  private static final int BLOCK = 32 * 1024;
  private static final int HEADER = 7;

  @Override
  protected String backendConfig() {
    return "type = " + RocksDbBackendProvider.TYPE;
  }

  @Override
  protected DamagePoint.Finder enginePoints() {
    return RocksDbCorruptionMatrixTest::points;
  }

  static List<DamagePoint> points(String file, byte[] content) {
    List<DamagePoint> out = new ArrayList<>();
    String name = file.substring(file.lastIndexOf('/') + 1);
    if (name.endsWith(".log") || name.startsWith("MANIFEST-")) {
      List<long[]> records = records(content);
      String kind = name.endsWith(".log") ? "wal" : "manifest";
      int n = records.size();
      for (int i : new int[] {0, 1, n / 2, n - 2, n - 1}) {
        if (i < 0 || i >= n) {
          continue;
        }
        long at = records.get(i)[0];
        long len = records.get(i)[1];
        String r = kind + " record " + (i + 1) + "/" + n;
        out.add(new DamagePoint(r + " crc", at));
        out.add(new DamagePoint(r + " length", at + 4));
        out.add(new DamagePoint(r + " type", at + 6));
        if (len > 0) {
          out.add(new DamagePoint(r + " payload", at + HEADER + len / 2));
        }
      }
    } else if (name.endsWith(".sst") && content.length > 53) {
      long size = content.length;
      out.add(new DamagePoint("sst footer magic", size - 1));
      out.add(new DamagePoint("sst footer format version", size - 12));
      out.add(new DamagePoint("sst footer block handles", size - 40));
      out.add(new DamagePoint("sst footer checksum type", size - 53));
      out.add(new DamagePoint("sst first data block", 0));
    } else if (name.equals("CURRENT") && content.length > 0) {
      out.add(new DamagePoint("CURRENT manifest number", content.length - 2));
    }
    return out;
  }

  /** Offsets and lengths of the physical records of a log-format file, until the data ends. */
  static List<long[]> records(byte[] c) {
    List<long[]> out = new ArrayList<>();
    int pos = 0;
    while (pos + HEADER <= c.length) {
      int left = BLOCK - pos % BLOCK;
      if (left < HEADER) {
        pos += left; // block trailer padding
        continue;
      }
      int len = (c[pos + 4] & 0xFF) | (c[pos + 5] & 0xFF) << 8;
      int type = c[pos + 6] & 0xFF;
      if (type == 0 && len == 0) {
        break; // preallocated, never written
      }
      if (pos + HEADER + len > c.length) {
        break;
      }
      out.add(new long[] {pos, len});
      pos += HEADER + len;
    }
    return out;
  }
}
