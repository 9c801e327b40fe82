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

/**
 * Alters a closed RocksDB backend's files through RocksDB itself, below Cairn, for tests. Layout 4
 * (the RocksDB engine on the shared base): the user's records in column family "records" (the
 * base's bookkeeping, stores named '_...' and log positions, in "base"), keyed {@code kind:u8 |
 * nameLength:u16 | name | key}; key-value entries have kind 1. Only the user's namespaces are
 * searched.
 */
final class RocksTamper {
  private RocksTamper() {}

  /** The stored value (frame and ciphertext) of user key {@code key} in a key-value namespace. */
  static byte[] readValue(Path data, byte[] key) throws RocksDBException {
    byte[][] out = new byte[1][];
    withRecords(data, (rocks, records) -> out[0] = rocks.get(records, find(rocks, records, key)));
    return out[0];
  }

  /** Replaces the stored value of user key {@code key} (which must exist) with {@code stored}. */
  static void writeValue(Path data, byte[] key, byte[] stored) throws RocksDBException {
    withRecords(data, (rocks, records) -> rocks.put(records, find(rocks, records, key), stored));
  }

  /** Copies the stored value of user key {@code from} over that of {@code to}. */
  static void moveValue(Path data, byte[] from, byte[] to) throws RocksDBException {
    withRecords(
        data,
        (rocks, records) -> {
          byte[] fromKey = find(rocks, records, from);
          byte[] toKey = find(rocks, records, to);
          rocks.put(records, toKey, rocks.get(records, fromKey));
        });
  }

  interface Action {
    void run(RocksDB rocks, ColumnFamilyHandle records) throws RocksDBException;
  }

  /** The one stored key of user key {@code user} in the user's key-value namespaces. */
  private static byte[] find(RocksDB rocks, ColumnFamilyHandle records, byte[] user) {
    byte[] found = null;
    try (var it = rocks.newIterator(records)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        int prefix = 3 + (((k[1] & 0xFF) << 8) | (k[2] & 0xFF));
        boolean userNamespace = k[0] == 1 && k[3] != '_';
        if (userNamespace && Arrays.equals(Arrays.copyOfRange(k, prefix, k.length), user)) {
          assertThat(found).as("one stored key for " + Arrays.toString(user)).isNull();
          found = k;
        }
      }
    }
    assertThat(found).as("stored key").isNotNull();
    return found;
  }

  private static void withRecords(Path data, Action action) throws RocksDBException {
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
      ColumnFamilyHandle records = null;
      for (int i = 0; i < names.size(); i++) {
        if (new String(names.get(i), StandardCharsets.UTF_8).equals("records")) {
          records = handles.get(i);
        }
      }
      assertThat(records).as("column family records").isNotNull();
      action.run(rocks, records);
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }
}
