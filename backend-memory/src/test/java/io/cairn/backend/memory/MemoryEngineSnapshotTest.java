package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The memory engine's copy-on-write snapshots, at the engine level (see MemoryEngine's comment).
 */
class MemoryEngineSnapshotTest {
  private static final StoreId ONE = new StoreId(StoreKind.KEY_VALUE, "one");
  private static final StoreId TWO = new StoreId(StoreKind.KEY_VALUE, "two");

  private final MemoryEngine engine = new MemoryEngine();

  @Test
  void aSnapshotKeepsItsStateWhateverIsWrittenAfterIt() {
    engine.write(List.of(put(ONE, "a", "1"), put(ONE, "b", "1")), Durability.NONE);
    StorageEngine.Snapshot first = engine.snapshot();
    engine.write(List.of(put(ONE, "a", "2"), put(TWO, "x", "2")), Durability.NONE);
    StorageEngine.Snapshot second = engine.snapshot();
    engine.write(
        List.of(
            new StorageEngine.Write(ONE, b("a"), null), new StorageEngine.Write(ONE, b("b"), null)),
        Durability.NONE); // store ONE emptied: no longer listed
    assertThat(engine.stores()).containsExactly(TWO);

    assertThat(first.get(ONE, b("a"))).isEqualTo(b("1"));
    assertThat(first.get(TWO, b("x"))).as("a store created after the snapshot").isNull();
    assertThat(first.range(ONE, new byte[0], null, 10)).hasSize(2);
    assertThat(second.get(ONE, b("a"))).isEqualTo(b("2"));
    assertThat(second.get(TWO, b("x"))).isEqualTo(b("2"));
    assertThat(second.range(ONE, b("b"), null, 10)).hasSize(1);
    assertThat(engine.get(ONE, b("a"))).isNull();

    first.get(ONE, b("a"))[0] = 'z'; // arrays returned belong to the caller
    assertThat(first.get(ONE, b("a"))).isEqualTo(b("1"));
    first.close();
    first.close(); // idempotent
    assertThatThrownBy(() -> first.get(ONE, b("a"))).isInstanceOf(IllegalStateException.class);
    assertThat(second.get(ONE, b("a"))).as("the other snapshot is unaffected").isEqualTo(b("2"));
    engine.close();
    second.close(); // after the engine closed: nothing to do
  }

  @Test
  void writesAfterTheLastSnapshotClosedStillLandInTheCurrentState() {
    engine.write(List.of(put(ONE, "a", "1")), Durability.NONE);
    engine.snapshot().close();
    engine.write(List.of(put(ONE, "a", "2")), Durability.NONE);
    StorageEngine.Snapshot s = engine.snapshot();
    engine.write(List.of(put(ONE, "a", "3")), Durability.NONE);
    assertThat(s.get(ONE, b("a"))).isEqualTo(b("2"));
    assertThat(engine.get(ONE, b("a"))).isEqualTo(b("3"));
    s.close();
    engine.write(List.of(put(ONE, "a", "4")), Durability.NONE);
    assertThat(engine.get(ONE, b("a"))).isEqualTo(b("4"));
  }

  private static StorageEngine.Write put(StoreId store, String key, String value) {
    return new StorageEngine.Write(store, b(key), b(value));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
