package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendLockedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The events the data-directory layer emits: lock wait, lock timeout, quarantine. */
class DataDirectoryEventsTest {
  private static final Predicate<String> ENGINE = n -> n.startsWith("engine");

  @TempDir Path tmp;

  private final List<String> events = new CopyOnWriteArrayList<>();
  private final Events sink =
      new Events() {
        @Override
        public boolean enabled() {
          return true;
        }

        @Override
        public void emit(EventType type, String backend, Map<String, ?> fields) {
          Events.check(fields);
          events.add(type.jsonName() + " " + backend + " " + fields);
        }
      };

  private BackendContext ctx(Path dir) {
    return BackendContext.builder("main", "test").dataDir(dir).events(sink).build();
  }

  @Test
  void aWaitForTheLockIsOneLockWaitEventAndGivingUpIsALockTimeoutEvent() {
    Path dir = tmp.resolve("d");
    try (DataDirectory first =
        DataDirectory.open(ctx(dir), DataDirectory.Options.DEFAULTS, ENGINE)) {
      DataDirectory.Options wait =
          new DataDirectory.Options(Duration.ofMillis(300), false, 64L << 20);
      assertThatThrownBy(() -> DataDirectory.open(ctx(dir), wait, ENGINE))
          .isInstanceOf(BackendLockedException.class);
    }
    assertThat(events).hasSize(2);
    assertThat(events.get(0))
        .startsWith("lock-wait main {data-dir=" + tmp.resolve("d").toAbsolutePath());
    assertThat(events.get(0)).contains("holder=this process: test backend 'main'", "waited-ms=");
    assertThat(events.get(1)).startsWith("lock-timeout main {data-dir=");
    long waited = Long.parseLong(events.get(1).replaceAll(".*waited-ms=(\\d+).*", "$1"));
    assertThat(waited).isGreaterThanOrEqualTo(300);
  }

  @Test
  void anOpenThatNeedsNoWaitEmitsNothingAndQuarantineEmitsItsDirectory() throws Exception {
    Path dir = tmp.resolve("q");
    try (DataDirectory d = DataDirectory.open(ctx(dir), DataDirectory.Options.DEFAULTS, ENGINE)) {
      assertThat(events).isEmpty();
      Files.writeString(d.path().resolve("engine.db"), "damaged");
      Path moved = d.quarantine(List.of("engine.db"));
      assertThat(events).containsExactly("quarantine main {directory=" + moved + ", entries=1}");
    }
  }
}
