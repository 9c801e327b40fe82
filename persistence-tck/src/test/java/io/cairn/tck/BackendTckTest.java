package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;

import io.cairn.persistence.Durability;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The TCK's parameterisation: {@link BackendTck} holds every contract suite of this package, runs
 * them once per {@link TckDurabilities} value, and refuses a subclass that names no durability. The
 * example subclasses below are run with the JUnit Platform Launcher (Surefire does not run static
 * nested classes on their own).
 */
class BackendTckTest {

  @Test
  void everyContractSuiteOfThePackageIsANestedClassOfBackendTck() throws Exception {
    Set<Class<?>> covered =
        Arrays.stream(BackendTck.class.getDeclaredClasses())
            .map(Class::getSuperclass)
            .collect(Collectors.toSet());
    List<Class<?>> suites = contractSuites();
    assertThat(suites).as("contract suites found in io.cairn.tck").hasSizeGreaterThanOrEqualTo(8);
    assertThat(covered)
        .as("suites BackendTck runs (add a nested class for a new suite)")
        .containsAll(suites);
  }

  @Test
  void everySuiteRunsOncePerDeclaredDurability() {
    Recorder twice = runLogStoreSuite(TwoRuns.class);
    assertThat(twice.failures).as("failures").isEmpty();
    // Each suite's tests ran under each durability's invocation ([1] and [2]).
    for (String invocation : List.of("[1] durability NONE", "[2] durability NORMAL")) {
      assertThat(twice.finishedContainers).contains(invocation);
    }
    long perRun = twice.succeededTests / 2;
    assertThat(perRun).as("tests per durability run").isPositive();
    assertThat(twice.succeededTests % 2).as("both runs ran the same tests").isZero();

    Recorder once = runLogStoreSuite(OneRun.class); // {NONE, NONE}: duplicates are one run
    assertThat(once.failures).as("failures").isEmpty();
    assertThat(once.succeededTests).isEqualTo(perRun);
  }

  @Test
  void aSubclassWithoutDurabilitiesFailsNamingTheAnnotation() {
    Recorder r = run(NoDurabilities.class);
    assertThat(r.succeededTests).isZero();
    assertThat(r.failures)
        .anySatisfy(
            message ->
                assertThat(message)
                    .contains(NoDurabilities.class.getName())
                    .contains("@TckDurabilities"));
  }

  /** Top-level abstract subclasses of {@link ContractSupport} in {@code io.cairn.tck}. */
  private static List<Class<?>> contractSuites() throws IOException, URISyntaxException {
    Path classes =
        Path.of(ContractSupport.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path dir = classes.resolve("io/cairn/tck");
    assertThat(dir).as("TCK classes are a directory in this module's build").isDirectory();
    List<Class<?>> suites = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.collect(Collectors.toList())) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".class") || name.contains("$")) {
          continue;
        }
        Class<?> c;
        try {
          c = Class.forName("io.cairn.tck." + name.substring(0, name.length() - 6));
        } catch (ClassNotFoundException e) {
          throw new AssertionError(e);
        }
        if (c != ContractSupport.class
            && ContractSupport.class.isAssignableFrom(c)
            && Modifier.isAbstract(c.getModifiers())) {
          suites.add(c);
        }
      }
    }
    return suites;
  }

  private static Recorder run(Class<?> testClass) {
    return run(selectClass(testClass));
  }

  /** Only the log-store suite of {@code testClass}'s runs: enough for the plumbing, and quick. */
  private static Recorder runLogStoreSuite(Class<?> testClass) {
    return run(selectNestedClass(List.of(testClass), BackendTck.LogStore.class));
  }

  private static Recorder run(DiscoverySelector selector) {
    LauncherDiscoveryRequest request =
        LauncherDiscoveryRequestBuilder.request().selectors(selector).build();
    Launcher launcher = LauncherFactory.create();
    Recorder recorder = new Recorder();
    launcher.execute(request, recorder);
    return recorder;
  }

  /** Counts what a launcher run did. */
  private static final class Recorder implements TestExecutionListener {
    long succeededTests;
    long skipped;
    final List<String> failures = new ArrayList<>();
    final List<String> finishedContainers = new ArrayList<>();

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
      if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
        skipped++; // skipped by capability or durability, as in a normal run
      } else if (result.getStatus() == TestExecutionResult.Status.FAILED) {
        failures.add(
            id.getDisplayName()
                + ": "
                + result.getThrowable().map(Throwable::toString).orElse("no throwable"));
      } else if (id.isTest()) {
        succeededTests++;
      } else {
        finishedContainers.add(id.getDisplayName());
      }
    }
  }

  /** The in-tree example backend, which accepts durability none only. */
  @TckDurabilities({Durability.NONE, Durability.NONE})
  static class OneRun extends BackendTck {
    @Override
    protected String backendConfig(Durability durability) {
      return "type = thirdparty, durability = " + durability.configName();
    }
  }

  /**
   * Two runs. The example accepts none only, so both configure none: this checks the plumbing (one
   * invocation per declared value, named by it), not a backend at normal.
   */
  @TckDurabilities({Durability.NONE, Durability.NORMAL})
  static class TwoRuns extends BackendTck {
    @Override
    protected String backendConfig(Durability durability) {
      return "type = thirdparty";
    }
  }

  /** Forgot the annotation. */
  static class NoDurabilities extends BackendTck {
    @Override
    protected String backendConfig(Durability durability) {
      return "type = thirdparty";
    }
  }
}
