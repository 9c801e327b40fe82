package io.cairn.backend.sqlite;

import io.cairn.tck.reliability.CorruptionMatrixContract;
import io.cairn.tck.reliability.DamagePoint;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The TCK corruption matrix on SQLite, with SQLite's own damage points: the database header and
 * page starts of {@code cairn.db}, the header and frame headers (page number, commit size, salts,
 * checksums) and page images of the live frames of {@code cairn.db-wal} (those with the header's
 * salts), and the index header of {@code cairn.db-shm}. File formats:
 * https://www.sqlite.org/fileformat2.html and https://www.sqlite.org/walformat.html.
 */
class SqliteCorruptionMatrixTest extends CorruptionMatrixContract {
  private static final int MAX_PAGES = 16;

  @Override
  protected String backendConfig() {
    return "type = " + TestBackends.TYPE;
  }

  @Override
  protected DamagePoint.Finder enginePoints() {
    return SqliteCorruptionMatrixTest::points;
  }

  static List<DamagePoint> points(String file, byte[] content) {
    List<DamagePoint> out = new ArrayList<>();
    ByteBuffer buf = ByteBuffer.wrap(content); // SQLite's integers are big-endian
    if (file.equals("cairn.db") && content.length >= 100) {
      out.add(new DamagePoint("db header magic", 0));
      out.add(new DamagePoint("db header page size", 16));
      out.add(new DamagePoint("db header page count", 31));
      out.add(new DamagePoint("db header schema cookie", 43));
      out.add(new DamagePoint("page 1 b-tree header", 100));
      int pageSize = pageSize(buf.getShort(16) & 0xFFFF);
      int pages = content.length / pageSize;
      for (int p : spreadPages(2, pages)) {
        long base = (long) (p - 1) * pageSize;
        out.add(new DamagePoint("page " + p + " type", base));
        out.add(new DamagePoint("page " + p + " cell pointers", base + 9));
        out.add(new DamagePoint("page " + p + " content", base + pageSize / 2));
      }
    } else if (file.equals("cairn.db-wal") && content.length >= 32) {
      out.add(new DamagePoint("wal header magic", 0));
      out.add(new DamagePoint("wal header page size", 11));
      out.add(new DamagePoint("wal header salt", 16));
      out.add(new DamagePoint("wal header checksum", 24));
      int pageSize = buf.getInt(8);
      if (pageSize < 512 || Integer.bitCount(pageSize) != 1) {
        return out;
      }
      int frameSize = 24 + pageSize;
      // Live frames carry the header's salts; after a checkpoint restarts the WAL, frames further
      // on are stale leftovers SQLite ignores, so damage there proves nothing.
      long salts = buf.getLong(16);
      int frames = 0;
      while (32 + (long) (frames + 1) * frameSize <= content.length
          && buf.getLong(32 + frames * frameSize + 8) == salts) {
        frames++;
      }
      List<Integer> commits = new ArrayList<>();
      for (int f = 0; f < frames; f++) {
        if (buf.getInt(32 + f * frameSize + 4) != 0) {
          commits.add(f);
        }
      }
      List<Integer> picked = new ArrayList<>(spreadPages(0, frames - 1));
      if (commits.size() >= 2) {
        picked.add(commits.get(commits.size() - 2));
      }
      if (!commits.isEmpty()) {
        picked.add(commits.get(commits.size() - 1));
      }
      for (int f : picked.stream().distinct().sorted().toList()) {
        long base = 32 + (long) f * frameSize;
        String name = "wal frame " + (f + 1) + (commits.contains(f) ? " (commit)" : "");
        out.add(new DamagePoint(name + " page number", base + 3));
        out.add(new DamagePoint(name + " commit size", base + 7));
        out.add(new DamagePoint(name + " salt", base + 8));
        out.add(new DamagePoint(name + " checksum", base + 16));
        out.add(new DamagePoint(name + " page image", base + 24 + pageSize / 2));
      }
    } else if (file.equals("cairn.db-shm") && content.length >= 136) {
      out.add(new DamagePoint("shm index header", 0));
      out.add(new DamagePoint("shm index header copy", 48));
      out.add(new DamagePoint("shm checkpoint info", 96));
      out.add(new DamagePoint("shm hash table", 136));
    }
    return out;
  }

  private static int pageSize(int field) {
    return field == 1 ? 65536 : field;
  }

  /** Up to {@link #MAX_PAGES} numbers from {@code first} to {@code last}, spread evenly. */
  private static List<Integer> spreadPages(int first, int last) {
    List<Integer> out = new ArrayList<>();
    if (last < first) {
      return out;
    }
    int n = last - first + 1;
    for (int i = 0; i < Math.min(n, MAX_PAGES); i++) {
      int p = first + (int) ((long) i * (n - 1) / Math.max(1, Math.min(n, MAX_PAGES) - 1));
      if (!out.contains(p)) {
        out.add(p);
      }
    }
    return out;
  }
}
