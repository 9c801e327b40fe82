package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * {@code cairn verify} on an encrypted RocksDB backend whose files were altered below Cairn: a
 * ciphertext moved to another key, or one byte of it flipped, passes RocksDB's own checksums (the
 * bytes were written through RocksDB) but fails to decrypt; verify exits 1 naming the store, and
 * prints no plaintext.
 */
class VerifyEncryptedDataTest {
  private static final String SECRET = "PLAINTEXT-c41e-never-printed-";

  @TempDir Path dir;
  Path config;
  Path dataDir;

  @BeforeEach
  void writeData() throws IOException {
    dataDir = dir.resolve("main");
    Path keyset = dir.resolve("keyset.json");
    KeySources.keysetFile(keyset).store(Keysets.generate(Algorithm.XAES_256_GCM));
    config = dir.resolve("app.conf");
    Files.writeString(
        config,
        "cairn.backends.main { type = rocksdb, data-dir = \""
            + dataDir
            + "\", encryption { key-source = keyset-file, keyset-file = \""
            + keyset
            + "\" } }\n");
    try (PersistenceRegistry registry =
        PersistenceRegistry.open(ConfigFactory.parseFile(config.toFile()))) {
      KeyValueStore kv = registry.backend("main").keyValue("users");
      for (int i = 0; i < 10; i++) {
        kv.put(("user-" + i).getBytes(StandardCharsets.UTF_8), bytes(SECRET + i));
      }
      registry.backend("main").log("events").append(bytes(SECRET + "event"));
    }
  }

  @Test
  void healthyEncryptedDataExitsZeroAndCountsWhatItOpened() {
    CliRunner r = CliRunner.run("verify", "--config", config.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out() + r.err()).doesNotContain(SECRET);
  }

  @Test
  void aCiphertextMovedToAnotherKeyOrFlippedExitsOneNamingTheStore() throws RocksDBException {
    alterKv(
        values -> {
          values.set(1, values.get(0).clone()); // user-0's ciphertext now under user-1
          byte[] flipped = values.get(5).clone();
          flipped[flipped.length - 3] ^= 0x01; // one bit of user-5's ciphertext
          values.set(5, flipped);
        });
    CliRunner r = CliRunner.run("verify", "--config", config.toString());
    String all = r.out() + r.err();
    assertThat(r.exitCode()).as(all).isEqualTo(CairnCommand.PROBLEMS);
    assertThat(all)
        .contains("'users'", "failed to decrypt or authenticate", "<redacted key>")
        .doesNotContain(SECRET)
        .doesNotContain("\tat ");
    assertThat(all.split("failed to decrypt or authenticate", -1)).as(all).hasSize(3);
  }

  private interface Change {
    void apply(List<byte[]> values);
  }

  /**
   * Rewrites the values of namespace 'users' in key order, through RocksDB itself: layout 4 keeps
   * the user's records in column family "records", a key-value entry keyed {@code kind 1 | name
   * length u16 | name | key} (the base's bookkeeping is in "base").
   */
  private void alterKv(Change change) throws RocksDBException {
    RocksDB.loadLibrary();
    String db = dataDir.toString();
    try (DBOptions options = new DBOptions();
        org.rocksdb.Options listing = new org.rocksdb.Options()) {
      List<byte[]> names = RocksDB.listColumnFamilies(listing, db);
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      for (byte[] n : names) {
        descriptors.add(new ColumnFamilyDescriptor(n));
      }
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try (RocksDB rocks = RocksDB.open(options, db, descriptors, handles)) {
        ColumnFamilyHandle kv = null;
        for (int i = 0; i < names.size(); i++) {
          if (new String(names.get(i), StandardCharsets.UTF_8).equals("records")) {
            kv = handles.get(i);
          }
        }
        assertThat(kv).as("column family records").isNotNull();
        byte[] users = {1, 0, 5, 'u', 's', 'e', 'r', 's'};
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        try (RocksIterator it = rocks.newIterator(kv)) {
          for (it.seek(users);
              it.isValid() && java.util.Arrays.equals(it.key(), 0, 8, users, 0, 8);
              it.next()) {
            keys.add(it.key());
            values.add(it.value());
          }
        }
        assertThat(keys).hasSize(10);
        change.apply(values);
        for (int i = 0; i < keys.size(); i++) {
          rocks.put(kv, keys.get(i), values.get(i));
        }
        for (ColumnFamilyHandle h : handles) {
          h.close();
        }
      }
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
