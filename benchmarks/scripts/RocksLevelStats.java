import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * Prints RocksDB's {@code rocksdb.levelstats} (files and MB per level) of every column family of a
 * closed RocksDB directory, opened read-only: the shape a build left (how many L0 files, how much
 * was moved down). Runs against any jar that carries rocksdbjni (the benchmarks jar):
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar benchmarks/scripts/RocksLevelStats.java DIR
 * </pre>
 */
public class RocksLevelStats {
  public static void main(String[] args) throws Exception {
    RocksDB.loadLibrary();
    String dir = args[0];
    List<byte[]> names;
    try (Options o = new Options()) {
      names = RocksDB.listColumnFamilies(o, dir);
    }
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (byte[] n : names) {
      descriptors.add(new ColumnFamilyDescriptor(n));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB db = RocksDB.openReadOnly(options, dir, descriptors, handles)) {
      for (int i = 0; i < names.size(); i++) {
        String stats = db.getProperty(handles.get(i), "rocksdb.levelstats");
        StringBuilder levels = new StringBuilder();
        for (String line : stats.split("\n")) {
          String[] f = line.trim().split("\\s+");
          if (f.length == 3 && f[0].matches("\\d+") && !f[1].equals("0")) {
            levels.append(" L").append(f[0]).append(' ').append(f[1]).append(" (").append(f[2]).append(" MB)");
          }
        }
        System.out.println(
            "family " + new String(names.get(i), StandardCharsets.UTF_8) + ":" + (levels.length() == 0 ? " empty" : levels));
      }
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }
}
