package io.cairn.tck.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed {@code fsync} at {@code durability = full} ("fsyncgate"): runs {@link FsyncFailureChild}
 * in a child JVM under {@link FsyncFaultShim} and checks that
 *
 * <ul>
 *   <li>the write whose fsync failed is not acknowledged: a typed {@link
 *       io.cairn.persistence.PersistenceException};
 *   <li>once fsync works again, the backend still refuses every write (a retried fsync can succeed
 *       although the kernel dropped the dirty pages), and health is unhealthy with the reason;
 *   <li>after close and reopen, every acknowledged write is there and writes work again.
 * </ul>
 *
 * A backend module extends this class and names its type. Skipped, with the reason, where gcc or
 * Linux is missing.
 */
public abstract class FsyncFailureContract {
  @TempDir protected Path dir;

  /** The backend type to test, e.g. {@code sqlite}. */
  protected abstract String backendType();

  @Test
  void failedFsyncIsNotAcknowledgedAndWritesStayRefusedUntilReopen() throws Exception {
    String[] whyNot = new String[1];
    Optional<Path> shim = FsyncFaultShim.compile(shimDirectory(), whyNot);
    assumeTrue(shim.isPresent(), () -> whyNot[0]);
    Path data = dir.resolve("data");
    Path trigger = dir.resolve("fail-fsync-now");
    Path log = dir.resolve("injected.log");
    List<String> out;
    try (ChildJvm child =
        ChildJvm.builder(FsyncFailureChild.class)
            .environment("LD_PRELOAD", shim.get().toString())
            .environment(FsyncFaultShim.TRIGGER_ENV, trigger.toString())
            .environment(FsyncFaultShim.LOG_ENV, log.toString())
            .args(backendType(), data.toString(), trigger.toString())
            .start()) {
      child.awaitLine(l -> l.equals("DONE"), Duration.ofSeconds(180));
      out = child.output();
    }
    String all = String.join("\n", out);
    System.out.println(backendType() + " under the fsync EIO shim:\n" + all);
    System.out.println("injected: " + Files.readString(log).strip());
    assertThat(out).as(all).contains("ACKED 9");
    assertThat(Files.readString(log))
        .as("the shim injected at least one EIO into an fsync/fdatasync")
        .contains("EIO ");
    assertThat(line(out, "DURING ")).as(all).startsWith("DURING REFUSED io.cairn.persistence.");
    assertThat(line(out, "HEALTH-DURING ")).as(all).startsWith("HEALTH-DURING false ");
    assertThat(line(out, "AFTER "))
        .as(all)
        .startsWith("AFTER REFUSED io.cairn.persistence.")
        .contains("refuses writes");
    assertThat(line(out, "HEALTH-AFTER ")).as(all).startsWith("HEALTH-AFTER false ");
    assertThat(line(out, "REOPENED "))
        .as(all)
        .contains("acked-present=10/10")
        .contains("after=absent");
    assertThat(line(out, "WRITE-AFTER-REOPEN ")).as(all).isEqualTo("WRITE-AFTER-REOPEN ok");
  }

  private static String line(List<String> out, String prefix) {
    return out.stream()
        .filter(l -> l.startsWith(prefix))
        .findFirst()
        .orElse("(no " + prefix + "line)");
  }

  /**
   * {@code target/fault} of the module under test when run by Maven, else a temporary directory.
   */
  private Path shimDirectory() {
    Path target = Path.of("target");
    return Files.isDirectory(target) ? target.resolve("fault") : dir.resolve("fault");
  }
}
