package io.cairn.tck.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The matrix on the test-only {@code thirdparty} backend (a file written on close with a CRC-32C
 * trailer), and the negative controls that prove the matrix can fail: a backend that returns a
 * wrong value, and a loss nobody reports (the deleted data directory without its documented
 * limitation).
 */
class CorruptionMatrixSelfTest {
  private static final String THIRDPARTY = "type = thirdparty";

  @Test
  void thirdPartyBackendReportsEveryDamage(@TempDir Path work) throws Exception {
    MatrixReport report =
        CorruptionMatrix.builder(THIRDPARTY, work)
            .durability(Durability.NONE)
            .documented(
                d -> d.file().equals("state.bin") && d.kind() == Damage.Kind.DELETE_FILE,
                "the thirdparty example backend takes a missing state.bin for a first start")
            .build()
            .run();
    System.out.println(report.table());
    assertThat(report.rows().get(0).outcome()).isEqualTo(Outcome.INTACT);
    // two files now (lock, state.bin: the example on StorageEngine keeps snapshot chunks as
    // records in state.bin, no longer one file each), every kind of damage to each, plus controls
    assertThat(report.rows()).hasSizeGreaterThanOrEqualTo(12);
    assertThat(report.rows(Outcome.DETECTED)).isNotEmpty();
    report.assertPassed();
  }

  @Test
  void aBackendReturningAWrongValueFailsTheMatrix(@TempDir Path work) throws Exception {
    MatrixReport report =
        CorruptionMatrix.builder(THIRDPARTY, work)
            .durability(Durability.NONE)
            .backendFilter(CorruptionMatrixSelfTest::lyingBackend)
            .build()
            .run();
    System.out.println(report.table());
    assertThat(report.passed()).isFalse();
    assertThat(report.rows().get(0).outcome()).isEqualTo(Outcome.FAILED);
    assertThat(report.rows().get(0).message()).contains("wrong data").contains("different value");
    assertThatThrownBy(report::assertPassed)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("undamaged control is not INTACT");
  }

  @Test
  void anUnreportedLossFailsTheMatrix(@TempDir Path work) throws Exception {
    MatrixReport report =
        CorruptionMatrix.builder(THIRDPARTY, work)
            .durability(Durability.NONE)
            .withoutDefaultLimitations()
            .build()
            .run();
    MatrixReport.Row deleted =
        report.rows().stream()
            .filter(r -> r.damage().kind() == Damage.Kind.DELETE_DIR)
            .findFirst()
            .orElseThrow();
    assertThat(deleted.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(deleted.message()).startsWith("silent loss");
    assertThat(report.passed()).isFalse();
  }

  @Test
  void spreadPicksFirstAndLast() {
    assertThat(CorruptionMatrix.spread(List.of(1, 2, 3, 4, 5, 6, 7), 3)).containsExactly(1, 4, 7);
    assertThat(CorruptionMatrix.spread(List.of(1, 2), 4)).containsExactly(1, 2);
  }

  /** Wraps {@code real} so that one key of the workload reads back with a different value. */
  static StorageBackend lyingBackend(StorageBackend real) {
    return proxy(
        StorageBackend.class,
        real,
        (method, args, result) -> {
          if (method.equals("keyValue")) {
            KeyValueStore kv = (KeyValueStore) result;
            return proxy(
                KeyValueStore.class,
                kv,
                (m, a, r) -> {
                  if (m.equals("getEntry") && r instanceof Optional<?> o && o.isPresent()) {
                    Entry e = (Entry) o.get();
                    return Optional.of(
                        new Entry(
                            e.key(),
                            "lie".getBytes(StandardCharsets.UTF_8),
                            e.version(),
                            e.expiresAtMillis()));
                  }
                  return r;
                });
          }
          return result;
        });
  }

  private interface After {
    Object apply(String method, Object[] args, Object result);
  }

  private static <T> T proxy(Class<T> type, T target, After after) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (p, m, args) -> {
              try {
                return after.apply(m.getName(), args, m.invoke(target, args));
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            }));
  }
}
