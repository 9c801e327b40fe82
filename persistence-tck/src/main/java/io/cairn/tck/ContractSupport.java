package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.Capability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of every contract suite. A backend author normally extends {@link BackendTck}, which runs
 * every suite at each durability the backend supports. A single suite can also be extended on its
 * own (for example {@link KeyValueStoreContract}), implementing {@link #backendConfig()}:
 *
 * <pre>{@code
 * class MyKeyValueStoreTest extends KeyValueStoreContract {
 *   @Override
 *   protected String backendConfig() {
 *     return "type = mine, durability = normal";
 *   }
 * }
 * }</pre>
 *
 * <p>Before each test a fresh temporary directory is created and a {@link PersistenceRegistry} is
 * opened with a {@link ManualClock} and this configuration:
 *
 * <pre>
 * cairn.backends.tck { &lt;backendConfig()&gt;, data-dir = "&lt;temp dir&gt;/tck" }
 * &lt;extraConfig()&gt;
 * </pre>
 *
 * The backend is therefore named {@value #BACKEND}, so its metrics are {@code cairn.tck.*} and its
 * health check {@code cairn.tck}. After each test the registry is closed and the directory deleted.
 *
 * <p>The provider is found through {@code META-INF/services} on the test class path, exactly as in
 * production. Optional behaviour is guarded by {@link #assumeCapability}: a backend without the
 * capability sees those tests skipped, never failed.
 *
 * <p>Not thread-safe itself: the helpers are for the test thread; the objects they return (backend,
 * clock) are thread-safe.
 */
public abstract class ContractSupport {
  /** Name of the backend instance every contract opens. */
  public static final String BACKEND = "tck";

  /**
   * System property overriding the per-test random seed. Test knobs stay outside the {@code cairn.}
   * namespace: system properties are layered over configuration, where unknown {@code cairn.*} keys
   * are errors.
   */
  public static final String SEED_PROPERTY = "tckSeed";

  private Path directory;
  private ManualClock clock;
  private PersistenceRegistry registry;
  private String testName;
  private Random random;
  private long seed;

  /**
   * The HOCON body of one backend entry, without braces, e.g. {@code "type = sqlite, durability =
   * normal"}. Must name the {@code type}; must not set {@code data-dir} (the TCK sets it).
   */
  protected abstract String backendConfig();

  /** Additional top-level HOCON merged into the configuration (e.g. {@code cairn.data-root}). */
  protected String extraConfig() {
    return "";
  }

  /**
   * The suite's name in seeds and logs; {@link BackendTck}'s suites add the test class and the
   * durability ({@code SqliteTckTest[full].KeyValueStore}), so each run has its own seed.
   */
  String suiteName() {
    return getClass().getSimpleName();
  }

  @BeforeEach
  final void openContractRegistry(@TempDir Path tempDir, TestInfo info) {
    this.directory = tempDir;
    this.clock = new ManualClock();
    this.testName = suiteName() + "." + info.getTestMethod().map(m -> m.getName()).orElse("?");
    this.registry = openRegistry();
  }

  @AfterEach
  final void closeContractRegistry() {
    PersistenceRegistry r = registry;
    registry = null;
    if (r != null) {
      r.close();
    }
  }

  /** The backend under test ({@value #BACKEND}), as the registry hands it out (instrumented). */
  protected final StorageBackend backend() {
    if (registry == null) {
      throw new IllegalStateException("No registry is open (a previous reopen() failed?)");
    }
    return registry.backend(BACKEND);
  }

  /** The open registry: metrics, health checks, configuration. */
  protected final PersistenceRegistry registry() {
    return registry;
  }

  /**
   * Closes the registry (and so the backend) and opens it again on the same directory with the same
   * clock; returns the new backend. Objects obtained from the old backend are closed.
   */
  protected final StorageBackend reopen() {
    closeRegistry();
    registry = openRegistry();
    return backend();
  }

  /**
   * Closes the registry (and so the backend, releasing its directory lock) without opening it
   * again, e.g. before another process uses the directory; {@link #reopen()} opens it again.
   */
  protected final void closeRegistry() {
    PersistenceRegistry old = registry;
    registry = null;
    if (old != null) {
      old.close();
    }
  }

  /**
   * Writes a HOCON file that opens backend {@value #BACKEND} with this test's configuration on the
   * test's data directory (the one {@link #backend()} uses), plus {@code extraBackendConfig} (e.g.
   * {@code "max-batch-entries = 10"}) inside the backend entry; for a child JVM or a second
   * registry. Returns the file.
   */
  protected final Path writeConfigFile(String fileName, String extraBackendConfig) {
    Path file = directory.resolve(fileName);
    try {
      java.nio.file.Files.writeString(
          file, hocon(directory.resolve(BACKEND), extraBackendConfig), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return file;
  }

  /**
   * Opens a second, independent registry on {@code dataDir} with this test's backend configuration
   * plus {@code extraBackendConfig} inside the backend entry (e.g. lower caps). The caller closes
   * it.
   */
  protected final PersistenceRegistry openRegistryAt(Path dataDir, String extraBackendConfig) {
    return PersistenceRegistry.builder()
        .clock(clock)
        .baseDirectory(directory)
        .open(ConfigFactory.parseString(hocon(dataDir, extraBackendConfig)));
  }

  /** The clock the backend uses; advance it to expire TTLs. */
  protected final ManualClock clock() {
    return clock;
  }

  /** The per-test temporary directory (the backend's data lives in its {@code tck} child). */
  protected final Path directory() {
    return directory;
  }

  /** Capabilities the backend under test declares. */
  protected final Set<Capability> capabilities() {
    return backend().capabilities();
  }

  /** Skips (does not fail) the calling test unless the backend declares {@code capability}. */
  protected final void assumeCapability(Capability capability) {
    Assumptions.assumeTrue(
        capabilities().contains(capability),
        () ->
            backend().type()
                + " backend does not declare "
                + capability
                + "; test skipped by capability");
  }

  /**
   * A random source for this test. Its seed is fixed per test (derived from the test's name) unless
   * {@code -DtckSeed=N} is given, and is printed so a failure can be replayed.
   */
  protected final Random random() {
    if (random == null) {
      Long forced = Long.getLong(SEED_PROPERTY);
      seed = forced != null ? forced : seedFor(testName);
      System.out.println(
          "[cairn-tck] " + testName + " seed=" + seed + " (-D" + SEED_PROPERTY + ")");
      random = new Random(seed);
    }
    return random;
  }

  /** The seed {@link #random()} used; call after {@link #random()}. */
  protected final long seed() {
    random();
    return seed;
  }

  /** A stable seed for {@code name}. */
  static long seedFor(String name) {
    long h = 1125899906842597L;
    for (int i = 0; i < name.length(); i++) {
      h = 31 * h + name.charAt(i);
    }
    return h;
  }

  /** UTF-8 bytes of {@code s}, for readable keys. */
  protected static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Bytes given as unsigned ints, e.g. {@code raw(0x00, 0x80, 0xFF)}. */
  protected static byte[] raw(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      assertThat(values[i]).as("byte value").isBetween(0, 255);
      b[i] = (byte) values[i];
    }
    return b;
  }

  /**
   * Opens a second, independent registry whose backend {@value #BACKEND} has the same configuration
   * but lives in {@code dataDir} (e.g. a checkpoint copy). The caller closes it.
   */
  protected final PersistenceRegistry openRegistryAt(Path dataDir) {
    return openRegistry(dataDir);
  }

  private PersistenceRegistry openRegistry() {
    return openRegistry(directory.resolve(BACKEND));
  }

  private PersistenceRegistry openRegistry(Path dataDir) {
    Config config = ConfigFactory.parseString(hocon(dataDir, ""));
    return PersistenceRegistry.builder().clock(clock).baseDirectory(directory).open(config);
  }

  private String hocon(Path dataDir, String extraBackendConfig) {
    return "cairn.backends."
        + BACKEND
        + " {\n"
        + backendConfig()
        + "\n"
        + extraBackendConfig
        + "\ndata-dir = "
        + ConfigUtil.quoteString(dataDir.toString())
        + "\n}\n"
        + extraConfig();
  }
}
