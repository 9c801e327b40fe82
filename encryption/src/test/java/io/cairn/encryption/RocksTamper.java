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
  /** The stored value (header and ciphertext) of user key {@code key} in column family "kv". */
  static byte[] readValue(Path data, byte[] key) throws RocksDBException {
    byte[][] out = new byte[1][];
    withKv(data, (rocks, kv, k) -> out[0] = rocks.get(kv, k), key);
    return out[0];
  }

  /** Replaces the stored value of user key {@code key} (which must exist) with {@code stored}. */
  static void writeValue(Path data, byte[] key, byte[] stored) throws RocksDBException {
    withKv(data, (rocks, kv, k) -> rocks.put(kv, k, stored), key);
  }

  interface KvAction {
    void run(RocksDB rocks, ColumnFamilyHandle kv, byte[] storedKey) throws RocksDBException;
  }

  private static void withKv(Path data, KvAction action, byte[] user) throws RocksDBException {
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
      byte[] found = null;
      try (RocksIterator it = rocks.newIterator(kv)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          if (Arrays.equals(Arrays.copyOfRange(k, 4, k.length), user)) {
            found = k;
          }
        }
      }
      assertThat(found).as("stored key").isNotNull();
      action.run(rocks, kv, found);
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }

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
