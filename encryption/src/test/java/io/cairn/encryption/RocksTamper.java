package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/** Alters a closed RocksDB backend's files through RocksDB itself, below Cairn, for tests. */
final class RocksTamper {
  private RocksTamper() {}

  /**
   * Copies the stored value (header and ciphertext) of user key {@code from} over that of {@code
   * to} in column family "kv" (keys there are a 4-byte store id and the user key).
   */
  static void moveValue(Path data, byte[] from, byte[] to) throws RocksDBException {
    RocksDB.loadLibrary();
    String db = data.toString();
    List<byte[]> names;
    try (Options o = new Options()) {
      names = RocksDB.listColumnFamilies(o, db);
    }
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (byte[] n : names) {
      descriptors.add(new ColumnFamilyDescriptor(n));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB rocks = RocksDB.open(options, db, descriptors, handles)) {
      ColumnFamilyHandle kv = null;
      for (int i = 0; i < names.size(); i++) {
        if (new String(names.get(i), StandardCharsets.UTF_8).equals("kv")) {
          kv = handles.get(i);
        }
      }
      assertThat(kv).as("column family kv").isNotNull();
      byte[] fromKey = null;
      byte[] toKey = null;
      try (RocksIterator it = rocks.newIterator(kv)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          byte[] user = Arrays.copyOfRange(k, 4, k.length);
          if (Arrays.equals(user, from)) {
            fromKey = k;
          } else if (Arrays.equals(user, to)) {
            toKey = k;
          }
        }
      }
      assertThat(fromKey).isNotNull();
      assertThat(toKey).isNotNull();
      rocks.put(kv, toKey, rocks.get(kv, fromKey));
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }
}
