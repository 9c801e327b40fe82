package com.example.thirdparty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import io.cairn.tck.BackendContract;
import io.cairn.tck.EncryptionContract;
import io.cairn.tck.RestartContract;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Mutation tests of the TCK itself: deliberately broken variants of the third-party example ({@link
 * MutantBackendProviders}) must FAIL the suites that cover their defect. Each suite is run
 * programmatically with the JUnit Platform Launcher, as a backend author's build would run it. A
 * control run of the same tests against the intact example must pass, so a failure is the defect's
 * doing, not the set-up's.
 *
 * <p>The suites are nested classes, which Surefire does not run on its own (they would fail by
 * design).
 */
class TckCatchesBrokenBackendsTest {

  @Test
  void aBackendThatWritesOnlyOnCloseFailsTheRestartSuite() {
    TestExecutionSummary broken = run(selectClass(CloseOnlyRestart.class));
    assertThat(broken.getTotalFailureCount())
        .as("restart suite against a backend that writes only on close:%n%s", describe(broken))
        .isPositive();
    assertThat(failedTests(broken)).contains("acknowledgedWritesSurviveAKilledProcess");

    TestExecutionSummary control = run(selectClass(IntactNormalRestart.class));
    assertThat(control.getTotalFailureCount()).as("control run:%n%s", describe(control)).isZero();
    assertThat(control.getTestsSucceededCount()).isPositive();
  }

  @Test
  void aBackendThatIgnoresTheLockFailsTheBackendSuite() {
    List<DiscoverySelector> lockTests =
        List.of(
            selectMethod(NoLockBackend.class, "aSecondOpenOfTheSameDirectoryInThisProcessIsLocked"),
            selectMethod(
                NoLockBackend.class, "aSecondOpenOfTheSameDirectoryInAnotherProcessIsLocked"));
    TestExecutionSummary broken = run(lockTests);
    assertThat(broken.getTotalFailureCount())
        .as("lock tests against a backend that ignores the lock:%n%s", describe(broken))
        .isEqualTo(2);

    TestExecutionSummary control =
        run(
            List.of(
                selectMethod(
                    IntactBackend.class, "aSecondOpenOfTheSameDirectoryInThisProcessIsLocked"),
                selectMethod(
                    IntactBackend.class, "aSecondOpenOfTheSameDirectoryInAnotherProcessIsLocked")));
    assertThat(control.getTotalFailureCount()).as("control run:%n%s", describe(control)).isZero();
    assertThat(control.getTestsSucceededCount()).isEqualTo(2);
  }

  @Test
  void aBackendThatDeclaresEncryptionButIgnoresTheHookFailsTheEncryptionSuite() {
    TestExecutionSummary broken = run(selectClass(NoEncryptionSuite.class));
    assertThat(broken.getTotalFailureCount())
        .as("encryption suite against a backend that ignores the hook:%n%s", describe(broken))
        .isPositive();
    assertThat(failedTests(broken))
        .contains(
            "aBackendDeclaringEncryptionSealsValuesPayloadsAndChunksBoundToTheirPlace",
            "aValueMovedToAnotherKeyOrStoreFailsToOpenNamingStoreAndKey");

    TestExecutionSummary control = run(selectClass(IntactEncryptionSuite.class));
    assertThat(control.getTotalFailureCount()).as("control run:%n%s", describe(control)).isZero();
    // Every test of EncryptionContract that applies to an encrypting backend ran and passed (the
    // one for backends without encryption aborts on its assumption), none skipped.
    assertThat(control.getTestsSkippedCount()).isZero();
    assertThat(control.getTestsAbortedCount()).isOne();
    assertThat(control.getTestsSucceededCount())
        .isEqualTo(control.getTestsFoundCount() - 1)
        .isGreaterThanOrEqualTo(6);
  }

  private static TestExecutionSummary run(DiscoverySelector selector) {
    return run(List.of(selector));
  }

  private static TestExecutionSummary run(List<DiscoverySelector> selectors) {
    LauncherDiscoveryRequest request =
        LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    launcher.execute(request, listener);
    return listener.getSummary();
  }

  private static List<String> failedTests(TestExecutionSummary summary) {
    return summary.getFailures().stream()
        .map(f -> f.getTestIdentifier().getDisplayName().replace("()", ""))
        .collect(Collectors.toList());
  }

  private static String describe(TestExecutionSummary summary) {
    return summary.getTestsSucceededCount()
        + " passed, "
        + summary.getTotalFailureCount()
        + " failed "
        + summary.getFailures().stream()
            .map(f -> f.getTestIdentifier().getDisplayName() + ": " + f.getException())
            .collect(Collectors.toList());
  }

  /** The restart suite against the close-only mutant (claims durability normal). */
  static class CloseOnlyRestart extends RestartContract {
    @Override
    protected String backendConfig() {
      return "type = thirdparty-close-only, durability = normal";
    }
  }

  /**
   * Control: the close-only mutant's restart suite minus the kill, i.e. the example at durability
   * none, where the kill test is skipped by durability.
   */
  static class IntactNormalRestart extends RestartContract {
    @Override
    protected String backendConfig() {
      return "type = thirdparty";
    }
  }

  /** The backend suite against the mutant that ignores the lock. */
  static class NoLockBackend extends BackendContract {
    @Override
    protected String backendConfig() {
      return "type = thirdparty-no-lock";
    }
  }

  /** Control: the same tests against the intact example. */
  static class IntactBackend extends BackendContract {
    @Override
    protected String backendConfig() {
      return "type = thirdparty";
    }
  }

  /** The encryption suite against the mutant that declares ENCRYPTION and ignores the hook. */
  static class NoEncryptionSuite extends EncryptionContract {
    @Override
    protected String backendConfig() {
      return "type = thirdparty-no-encryption";
    }
  }

  /** Control: the encryption suite against the intact example. */
  static class IntactEncryptionSuite extends EncryptionContract {
    @Override
    protected String backendConfig() {
      return "type = thirdparty";
    }
  }
}
