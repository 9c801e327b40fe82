package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.StoreCorruptedException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SpiHelpersTest {
  @Test
  void prefixUpperBoundIsTheFirstKeyAfterThePrefix() {
    assertThat(Bytes.prefixUpperBound(new byte[] {1, 2})).containsExactly(1, 3);
    assertThat(Bytes.prefixUpperBound(new byte[] {1, (byte) 0xFF})).containsExactly(2);
    assertThat(Bytes.prefixUpperBound(new byte[] {(byte) 0xFF, (byte) 0xFF})).isNull();
    assertThat(Bytes.prefixUpperBound(new byte[0])).isNull();
  }

  @Test
  void unsignedOrderPutsHighBytesLast() {
    assertThat(Bytes.UNSIGNED.compare(new byte[] {(byte) 0x80}, new byte[] {0x7F})).isPositive();
    assertThat(Bytes.UNSIGNED.compare(new byte[] {1}, new byte[] {1, 0})).isNegative();
  }

  @Test
  void verifyingStreamPassesIntactDataAndRejectsAlteredData() throws Exception {
    byte[] data = new byte[100_000];
    new java.util.Random(1).nextBytes(data);
    long crc = Checksums.crc32c(data);
    try (InputStream in =
        Checksums.verifying(new ByteArrayInputStream(data), crc, data.length, "s/1")) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
    byte[] altered = data.clone();
    altered[50_000] ^= 1;
    assertThatThrownBy(
            () -> {
              try (InputStream in =
                  Checksums.verifying(new ByteArrayInputStream(altered), crc, data.length, "s/1")) {
                in.readAllBytes();
              }
            })
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("s/1")
        .hasMessageContaining("CRC-32C");
    assertThatThrownBy(
            () -> {
              try (InputStream in =
                  Checksums.verifying(
                      new ByteArrayInputStream(data, 0, 10), crc, data.length, "s/1")) {
                in.readAllBytes();
              }
            })
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("ended after 10");
  }

  @Test
  void suggestionsOnlyForCloseNames() {
    Set<String> known = Set.of("durability", "data-dir", "type");
    assertThat(Settings.suggest("durabilty", known)).isEqualTo("durability");
    assertThat(Settings.suggest("datadir", known)).isEqualTo("data-dir");
    assertThat(Settings.suggest("colour", known)).isNull();
  }

  @Test
  void storeNamesRejectBadInputBeforeAnythingIsWritten() {
    assertThat(ArgumentChecks.check("log", "orders.v1-2_x")).isEqualTo("orders.v1-2_x");
    assertThatThrownBy(() -> ArgumentChecks.check("log", "../etc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'../etc'");
    assertThatThrownBy(() -> ArgumentChecks.checkKey(new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ArgumentChecks.expiryMillis(1000, null)).isZero();
    assertThat(ArgumentChecks.expiryMillis(Long.MAX_VALUE - 1, java.time.Duration.ofDays(1)))
        .isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void keysAreShownAsTextAndHexWhenPrintableElseAsHex() {
    assertThat(Bytes.toDisplay("o-1".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
        .isEqualTo("'o-1' (0x6f2d31)");
    assertThat(Bytes.toDisplay(new byte[] {0, (byte) 0xff})).isEqualTo("0x00ff");
    assertThat(Bytes.toDisplay("a\nb".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
        .as("a control character makes it binary")
        .isEqualTo("0x610a62");
    assertThat(Bytes.toDisplay("x".repeat(40).getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
        .startsWith("'" + "x".repeat(32) + "...' (0x")
        .endsWith("...(40 bytes))");
    assertThat(Bytes.toDisplay(new byte[] {'k'}, true))
        .as("redacted when encryption is on")
        .isEqualTo(Bytes.REDACTED + " (1 bytes)")
        .doesNotContain("6b");
  }

  @Test
  void ttlsTooLongToRepresentAreIllegalArgumentsAndExpirySaturates() {
    assertThatThrownBy(() -> ArgumentChecks.checkTtl(java.time.Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TTL");
    ArgumentChecks.checkTtl(io.cairn.persistence.KeyValueStore.MAX_TTL);
    assertThat(ArgumentChecks.expiryMillis(1000, java.time.Duration.ofSeconds(Long.MAX_VALUE)))
        .isEqualTo(Long.MAX_VALUE);
    assertThatThrownBy(() -> ArgumentChecks.checkOffset("fromOffset", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fromOffset must be >= 0");
    assertThatThrownBy(() -> ArgumentChecks.check(io.cairn.persistence.StoreKind.LOG, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Invalid log name null: use 1-128 characters from [A-Za-z0-9._-], starting with a"
                + " letter or digit");
  }
}
