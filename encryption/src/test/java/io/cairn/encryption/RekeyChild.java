package io.cairn.encryption;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.ResealReport;
import java.nio.file.Path;

/**
 * Child JVM of {@link RekeyTest}'s kill loop: opens the backend, prints {@code READY}, runs {@link
 * Rekey#run} (pausing {@code rekey.pauseMillis} at each progress report, so a kill lands in the
 * middle of the run) and prints {@code DONE resealed=<n>}. Arguments: type, base dir, keyset file.
 */
public final class RekeyChild {
  private RekeyChild() {}

  public static void main(String[] args) throws Exception {
    long pause = Long.getLong("rekey.pauseMillis", 0);
    try (PersistenceRegistry r = RekeyFixture.open(args[0], Path.of(args[1]), Path.of(args[2]))) {
      System.out.println("READY");
      ResealReport report =
          Rekey.run(
              r,
              "main",
              (phase, done, total) -> {
                if (pause > 0) {
                  try {
                    Thread.sleep(pause);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
              });
      System.out.println("DONE resealed=" + report.resealed());
    }
  }
}
