package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The base's options for what runs besides the calls: the sweeper and read-only opening. */
class EngineBackendOptionsTest {
  private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
  private final Clock clock =
      new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return Instant.ofEpochMilli(now.get());
        }
      };

  private StorageBackend open(TreeMapEngine engine, EngineBackend.Options options) {
    return EngineBackend.open(
        BackendContext.builder("opts", "t").durability(Durability.NONE).clock(clock).build(),
        "t",
        engine,
        options);
  }

  @Test
  void theSweeperRemovesExpiredEntriesOfEveryNamespaceAndStopsAtClose() throws Exception {
    TreeMapEngine engine = new TreeMapEngine();
    StorageBackend b =
        open(
            engine,
            EngineBackend.Options.builder(Durability.NONE).sweeper(Duration.ofMillis(5)).build());
    b.keyValue("a").put(b("k"), b("v"), Duration.ofSeconds(1));
    b.keyValue("b").put(b("k"), b("v"), Duration.ofSeconds(1));
    b.keyValue("b").put(b("live"), b("v"));
    now.addAndGet(2000);
    StoreId a = new StoreId(StoreKind.KEY_VALUE, "a");
    StoreId bs = new StoreId(StoreKind.KEY_VALUE, "b");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while ((engine.get(a, b("k")) != null || engine.get(bs, b("k")) != null)
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(engine.get(a, b("k"))).as("swept from a").isNull();
    assertThat(engine.get(bs, b("k"))).as("swept from b").isNull();
    assertThat(engine.get(bs, b("live"))).as("a live entry stays").isNotNull();
    b.close();
    assertThat(sweeperThreads()).as("stopped by close").isEmpty();
  }

  @Test
  void withoutTheOptionNoThreadRuns() {
    try (StorageBackend b =
        open(new TreeMapEngine(), EngineBackend.Options.builder(Durability.NONE).build())) {
      b.keyValue("a").put(b("k"), b("v"));
      assertThat(sweeperThreads()).isEmpty();
    }
    assertThatThrownBy(
            () -> EngineBackend.Options.builder(Durability.NONE).sweeper(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aReadOnlyBackendWritesNothingAtOpenAndReads() {
    TreeMapEngine engine = new TreeMapEngine();
    EngineRecords records = new EngineRecords("opts", false);
    engine.write(List.of(records.entry("ns", b("k"), 3, 0, b("v"))), Durability.NONE);
    engine.readOnly = true; // data without the expiry index marker, and no write possible
    assertThatThrownBy(() -> open(engine, EngineBackend.Options.builder(Durability.NONE).build()))
        .as("the index build writes")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("read-only");
    try (StorageBackend b =
        open(
            engine,
            EngineBackend.Options.builder(Durability.NONE)
                .readOnly(true)
                .sweeper(Duration.ofMillis(5))
                .build())) {
      assertThat(b.keyValue("ns").getEntry(b("k")).orElseThrow().version()).isEqualTo(3);
      assertThat(sweeperThreads()).as("no sweeper on a read-only backend").isEmpty();
    }
  }

  private static List<Thread> sweeperThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("cairn-t-sweeper-opts") && t.isAlive())
        .toList();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
