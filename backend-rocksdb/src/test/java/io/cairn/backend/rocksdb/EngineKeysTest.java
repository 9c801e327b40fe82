package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link EngineKeys#key(StoreId, byte[])} (a get's key built in one array) writes exactly the
 * layout-3 key that {@code key(prefix(store), key)} writes, which every write, range and migration
 * uses: a get must find what they wrote.
 */
class EngineKeysTest {
  private static final byte[] KEY = {0, 1, (byte) 0x80, (byte) 0xFF, 'k'};

  @Test
  void aGetKeyIsTheLayoutKeyForEveryKindAndName() {
    for (StoreKind kind : StoreKind.values()) {
      // ASCII (the copied path), non-ASCII (UTF-8 through prefix), Latin-1 (one char, two UTF-8
      // bytes), the 0x7F/0x80 boundary
      for (String name :
          new String[] {"bench", "a", "_expiry.3", "\u007f", "na\u00efve", "\u20ac"}) {
        StoreId store = new StoreId(kind, name);
        byte[] k = EngineKeys.key(store, KEY);
        assertThat(k).as(store.toString()).isEqualTo(EngineKeys.key(EngineKeys.prefix(store), KEY));
        assertThat(EngineKeys.store(k, "test")).isEqualTo(store);
        assertThat(EngineKeys.prefixLength(k, "test"))
            .isEqualTo(3 + name.getBytes(StandardCharsets.UTF_8).length);
      }
    }
  }

  @Test
  void aNameWhoseLengthDoesNotFitTheTwoLengthBytesIsRefusedNotTruncated() {
    StoreId ascii = new StoreId(StoreKind.KEY_VALUE, "n".repeat(0x10000));
    assertThatThrownBy(() -> EngineKeys.key(ascii, KEY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer than 65535 UTF-8 bytes");
    StoreId fits = new StoreId(StoreKind.KEY_VALUE, "n".repeat(0xFFFF));
    assertThat(EngineKeys.prefixLength(EngineKeys.key(fits, KEY), "test")).isEqualTo(3 + 0xFFFF);
  }
}
