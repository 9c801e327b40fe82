package io.cairn.tck.reliability;

import io.cairn.persistence.Durability;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link CorruptionMatrix} as a JUnit 5 suite: extend it, name the backend, optionally supply
 * engine-specific damage points and documented limitations, and every case must be {@link
 * Outcome#DETECTED}, {@link Outcome#INTACT}, {@link Outcome#RECOVERED} or {@link
 * Outcome#DOCUMENTED}, never {@link Outcome#FAILED}.
 *
 * <pre>{@code
 * class FooCorruptionMatrixTest extends CorruptionMatrixContract {
 *   protected String backendConfig() { return "type = foo"; }
 * }
 * }</pre>
 *
 * <p>By default (CI) it runs the sampled matrix twice: after a clean close at {@code normal} and
 * after a kill -9 at {@code full}. {@code -DcorruptionMatrix=full} runs every damage position and
 * both variants at both durabilities. Each run prints its table and writes it to {@code
 * target/reliability/<test class>-<variant>-<durability>.md}.
 */
public abstract class CorruptionMatrixContract {
  /** HOCON body of the backend entry, e.g. {@code "type = sqlite"}. */
  protected abstract String backendConfig();

  /** Engine-specific damage points (default none). */
  protected DamagePoint.Finder enginePoints() {
    return DamagePoint.Finder.NONE;
  }

  /** Whether the backend keeps acknowledged writes over a kill (durability normal or full). */
  protected boolean survivesKill() {
    return true;
  }

  /** Hook for documented limitations or other options; the default changes nothing. */
  protected CorruptionMatrix.Builder configure(CorruptionMatrix.Builder builder) {
    return builder;
  }

  static Stream<Arguments> runs() {
    List<Arguments> out = new ArrayList<>();
    out.add(Arguments.of(CorruptionMatrix.Variant.CLEAN_CLOSE, Durability.NORMAL));
    out.add(Arguments.of(CorruptionMatrix.Variant.KILLED, Durability.FULL));
    if (CorruptionMatrix.fullByDefault()) {
      out.add(Arguments.of(CorruptionMatrix.Variant.CLEAN_CLOSE, Durability.FULL));
      out.add(Arguments.of(CorruptionMatrix.Variant.KILLED, Durability.NORMAL));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} at {1}")
  @MethodSource("io.cairn.tck.reliability.CorruptionMatrixContract#runs")
  void noDamageIsSilent(CorruptionMatrix.Variant variant, Durability durability, @TempDir Path work)
      throws IOException {
    if (variant == CorruptionMatrix.Variant.KILLED) {
      Assumptions.assumeTrue(
          survivesKill(), "the backend does not keep acknowledged writes over a kill");
    }
    Durability d = survivesKill() ? durability : Durability.NONE;
    MatrixReport report =
        configure(
                CorruptionMatrix.builder(backendConfig(), work)
                    .durability(d)
                    .variant(variant)
                    .points(enginePoints()))
            .build()
            .run();
    String table = report.table();
    System.out.println(table);
    Path out = Path.of("target", "reliability");
    Files.createDirectories(out);
    Files.writeString(
        out.resolve(
            getClass().getSimpleName()
                + "-"
                + variant.name().toLowerCase(Locale.ROOT)
                + "-"
                + d.configName()
                + ".md"),
        table,
        StandardCharsets.UTF_8);
    report.assertPassed();
  }
}
