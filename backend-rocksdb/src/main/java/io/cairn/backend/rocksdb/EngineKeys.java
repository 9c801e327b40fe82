package io.cairn.backend.rocksdb;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The RocksDB keys of layouts 3 and 4 ({@link RocksStorageEngine} has the layout): {@code kind:u8 |
 * nameLength:u16 | name (UTF-8) | engine key}. The store prefix {@code kind | nameLength | name} is
 * a prefix of no other store's keys (the length separates {@code a} from {@code ab}), so each store
 * is one contiguous key range, and keys within it sort as the base's keys do ({@code
 * Bytes.UNSIGNED} = RocksDB's bytewise order).
 */
final class EngineKeys {
  private EngineKeys() {}

  /** Fixed codes of the store kinds in keys; never {@link StoreKind#ordinal()}. */
  static final byte KEY_VALUE = 1;

  static final byte LOG = 2;
  static final byte SNAPSHOT = 3;

  static byte code(StoreKind kind) {
    return switch (kind) {
      case KEY_VALUE -> KEY_VALUE;
      case LOG -> LOG;
      case SNAPSHOT -> SNAPSHOT;
    };
  }

  /** The prefix of every key of {@code store}. */
  static byte[] prefix(StoreId store) {
    byte[] name = store.name().getBytes(StandardCharsets.UTF_8);
    if (name.length > 0xFFFF) {
      // unreachable for names the base checks (136 characters); refused rather than truncated
      throw new IllegalArgumentException("store name longer than 65535 UTF-8 bytes: " + store);
    }
    byte[] p = new byte[3 + name.length];
    p[0] = code(store.kind());
    p[1] = (byte) (name.length >>> 8);
    p[2] = (byte) name.length;
    System.arraycopy(name, 0, p, 3, name.length);
    return p;
  }

  /**
   * {@code prefix(store)} followed by {@code key}, in one array: a get's key without the prefix's
   * two intermediate arrays (the name's UTF-8 bytes, the prefix). An ASCII name (UTF-8 = one byte
   * per character) is copied character by character; any other goes through {@link #prefix}.
   */
  static byte[] key(StoreId store, byte[] key) {
    String name = store.name();
    int n = name.length();
    if (n > 0xFFFF) {
      return key(prefix(store), key); // prefix refuses it, naming the store
    }
    byte[] k = new byte[3 + n + key.length];
    for (int i = 0; i < n; i++) {
      char c = name.charAt(i);
      if (c >= 0x80) {
        return key(prefix(store), key);
      }
      k[3 + i] = (byte) c;
    }
    k[0] = code(store.kind());
    k[1] = (byte) (n >>> 8);
    k[2] = (byte) n;
    System.arraycopy(key, 0, k, 3 + n, key.length);
    return k;
  }

  /** {@code prefix} followed by {@code key}. */
  static byte[] key(byte[] prefix, byte[] key) {
    byte[] k = Arrays.copyOf(prefix, prefix.length + key.length);
    System.arraycopy(key, 0, k, prefix.length, key.length);
    return k;
  }

  /** Length of the store prefix at the start of {@code key}. */
  static int prefixLength(byte[] key, String where) {
    if (key.length < 3) {
      throw damaged(key, where);
    }
    int len = 3 + (((key[1] & 0xFF) << 8) | (key[2] & 0xFF));
    if (key.length < len) {
      throw damaged(key, where);
    }
    return len;
  }

  /** The store a raw key belongs to. */
  static StoreId store(byte[] key, String where) {
    int len = prefixLength(key, where);
    StoreKind kind =
        switch (key[0]) {
          case KEY_VALUE -> StoreKind.KEY_VALUE;
          case LOG -> StoreKind.LOG;
          case SNAPSHOT -> StoreKind.SNAPSHOT;
          default -> throw damaged(key, where);
        };
    return new StoreId(kind, new String(key, 3, len - 3, StandardCharsets.UTF_8));
  }

  private static StoreCorruptedException damaged(byte[] key, String where) {
    return new StoreCorruptedException(
        where
            + ": a key names no store (kind byte, name length and name expected; got "
            + key.length
            + " bytes starting "
            + (key.length == 0 ? "-" : String.format("0x%02x", key[0] & 0xFF))
            + "). Run 'cairn verify'; restore from a backup.");
  }
}
