package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import io.cairn.persistence.Capability;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of one table on a shared backend: instance B has decided where to read from, then
 * instance A saves a snapshot (which truncates the log below it) and appends more, and only then
 * does B read. The records B expected are gone because a snapshot covers them, not lost: B must
 * catch up from that snapshot, not call the log damaged. (Seen on PostgreSQL as "has a gap:
 * expected offset 32 but read 51" in {@link RouteTableMultiInstanceTest}.)
 *
 * <p>The shared backend is the memory backend seen through two wrappers that declare {@link
 * Capability#MULTI_PROCESS}; B's wrapper runs A's writes right after B's call of a named method of
 * its log or snapshot store, which makes the interleaving exact.
 */
class RouteTableTruncationRaceTest {
  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** Runs {@code action} once, right after the first call of {@code method}. */
  private record Trigger(String method, Runnable action) {}

  /** {@code real} declaring MULTI_PROCESS; its log and snapshot stores pull {@code trigger}. */
  private static StorageBackend shared(StorageBackend real, AtomicReference<Trigger> trigger) {
    return (StorageBackend)
        Proxy.newProxyInstance(
            StorageBackend.class.getClassLoader(),
            new Class<?>[] {StorageBackend.class},
            (proxy, m, args) -> {
              switch (m.getName()) {
                case "capabilities" -> {
                  Set<Capability> c = EnumSet.noneOf(Capability.class);
                  c.addAll(real.capabilities());
                  c.add(Capability.MULTI_PROCESS);
                  return c;
                }
                case "extension" -> {
                  return Optional.empty(); // no change notifications: B catches up when told
                }
                case "log" -> {
                  return racing(LogStore.class, real.log((String) args[0]), trigger);
                }
                case "snapshots" -> {
                  return racing(SnapshotStore.class, real.snapshots((String) args[0]), trigger);
                }
                default -> {
                  return call(m, real, args);
                }
              }
            });
  }

  private static <T> T racing(Class<T> type, T real, AtomicReference<Trigger> trigger) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (proxy, m, args) -> {
              Object result = call(m, real, args);
              Trigger t = trigger.get();
              if (t != null && t.method().equals(m.getName()) && trigger.compareAndSet(t, null)) {
                t.action().run(); // B has its answer; A's writes land before B's next step
              }
              return result;
            }));
  }

  private static Object call(java.lang.reflect.Method m, Object target, Object[] args)
      throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private RouteTable open(PersistenceRegistry r, StorageBackend backend) {
    List<ConfigProblem> problems = new ArrayList<>();
    RoutingSettings s = RoutingSettings.read(r.config(), "catalog", problems);
    assertThat(problems).isEmpty();
    RouteTable t =
        RouteTable.open(s, backend, new MetricRegistry(), new HealthCheckRegistry(), Progress.NONE);
    open.add(t::close);
    return t;
  }

  private PersistenceRegistry registry() {
    PersistenceRegistry r =
        TestBackends.open(
            dir,
            TestBackends.config(
                "memory",
                "cairn.route-tables.catalog { backend = main, snapshot-every = 100000,"
                    + " retain-snapshots = 1, follow-interval = 0s }"));
    open.add(r::close);
    return r;
  }

  /** A's writes for the race: a snapshot at version 10 (the log now starts at 10), 5 more. */
  private static Runnable snapshotAndAppend(RouteTable a) {
    return () -> {
      a.snapshot();
      for (int i = 10; i < 15; i++) {
        a.put(Route.of("k" + i, "v" + i));
      }
    };
  }

  @Test
  void aFollowerBehindATruncationCatchesUpFromTheSnapshot() {
    PersistenceRegistry r = registry();
    AtomicReference<Trigger> trigger = new AtomicReference<>();
    RouteTable a = open(r, shared(r.backend("main"), new AtomicReference<>()));
    RouteTable b = open(r, shared(r.backend("main"), trigger));
    for (int i = 0; i < 10; i++) {
      a.put(Route.of("k" + i, "v" + i));
    }
    trigger.set(new Trigger("firstOffset", snapshotAndAppend(a)));

    long applied = b.catchUp();

    assertThat(trigger.get()).as("the interleaving ran").isNull();
    assertThat(b.version()).isEqualTo(15);
    assertThat(b.routes()).isEqualTo(a.routes()).hasSize(15);
    assertThat(applied).as("versions moved").isEqualTo(15);
  }

  @Test
  void anInstanceOpeningDuringATruncationRecoversFromTheSnapshot() {
    PersistenceRegistry r = registry();
    AtomicReference<Trigger> trigger = new AtomicReference<>();
    RouteTable a = open(r, shared(r.backend("main"), new AtomicReference<>()));
    for (int i = 0; i < 10; i++) {
      a.put(Route.of("k" + i, "v" + i));
    }
    // B lists no snapshot, so it will replay from offset 0; then A truncates under it
    trigger.set(new Trigger("list", snapshotAndAppend(a)));

    RouteTable b = open(r, shared(r.backend("main"), trigger));

    assertThat(trigger.get()).as("the interleaving ran").isNull();
    assertThat(b.version()).isEqualTo(15);
    assertThat(b.routes()).isEqualTo(a.routes()).hasSize(15);
  }
}
