package io.cairn.tck;

import io.cairn.persistence.Durability;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.provider.ArgumentsSource;
import org.junit.jupiter.params.support.ParameterDeclarations;

/**
 * The whole TCK for one backend, run at each durability the backend supports. A backend author
 * writes one class:
 *
 * <pre>{@code
 * @TckDurabilities({Durability.NORMAL, Durability.FULL})
 * class MyBackendTckTest extends BackendTck {
 *   @Override
 *   protected String backendConfig(Durability durability) {
 *     return "type = mine, durability = " + durability.configName();
 *   }
 * }
 * }</pre>
 *
 * <p>JUnit runs the class once per {@link TckDurabilities} value (a class-level parameter, {@link
 * ParameterizedClass}); each run holds every contract suite as a {@link Nested} class: {@link
 * KeyValueStore}, {@link LogStore}, {@link SnapshotStore}, {@link Transactions}, {@link
 * Concurrency}, {@link Restart}, {@link Backend} and {@link ModelBased}. The report reads, for
 * example, {@code MyBackendTckTest > [2] durability FULL > KeyValueStore > casOnStaleVersionFails}.
 * Each suite behaves exactly as the contract class extended on its own (see {@link
 * ContractSupport}): a fresh registry and directory per test, capability-guarded tests skipped.
 *
 * <p>A single contract class may still be extended directly (e.g. to run one suite with a special
 * configuration); {@link ContractSupport#backendConfig()} is then the whole configuration.
 *
 * <p>A new contract suite in this package gets a nested class here, so every backend runs it
 * without changing its test ({@code BackendTckCoversEverySuiteTest} checks that none is missing).
 */
@ParameterizedClass(name = "[{index}] durability {0}")
@ArgumentsSource(BackendTck.Durabilities.class)
public abstract class BackendTck {

  /** The durability of this run, injected by JUnit from {@link TckDurabilities}. */
  @Parameter Durability durability;

  /** Subclasses are instantiated by JUnit. */
  protected BackendTck() {}

  /**
   * The HOCON body of the backend entry at {@code durability}, without braces, e.g. {@code "type =
   * sqlite, durability = full"}. Must name the {@code type} and use {@code durability}; must not
   * set {@code data-dir} (the TCK sets it).
   *
   * @param durability one of the values of this class's {@link TckDurabilities}
   * @return the configuration body
   */
  protected abstract String backendConfig(Durability durability);

  /**
   * Additional top-level HOCON at {@code durability} (see {@link ContractSupport#extraConfig()});
   * empty by default.
   *
   * @param durability one of the values of this class's {@link TckDurabilities}
   * @return HOCON merged into the configuration, or an empty string
   */
  protected String extraConfig(Durability durability) {
    return "";
  }

  /** The durability of the current run. */
  protected final Durability durability() {
    if (durability == null) {
      throw new IllegalStateException(
          getClass().getName()
              + ": no durability was injected; run it with JUnit 5.13 or later (class-level"
              + " parameters) and annotate it with @TckDurabilities");
    }
    return durability;
  }

  private String config() {
    return backendConfig(durability());
  }

  private String extra() {
    return extraConfig(durability());
  }

  private String suiteName(ContractSupport suite) {
    return getClass().getSimpleName()
        + "["
        + durability().configName()
        + "]."
        + suite.getClass().getSimpleName();
  }

  /** {@link KeyValueStoreContract} at this run's durability. */
  @Nested
  public class KeyValueStore extends KeyValueStoreContract {
    /** Instantiated by JUnit. */
    public KeyValueStore() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link LogStoreContract} at this run's durability. */
  @Nested
  public class LogStore extends LogStoreContract {
    /** Instantiated by JUnit. */
    public LogStore() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link ImporterContract} at this run's durability. */
  @Nested
  public class Import extends ImporterContract {
    /** Instantiated by JUnit. */
    public Import() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link SnapshotStoreContract} at this run's durability. */
  @Nested
  public class SnapshotStore extends SnapshotStoreContract {
    /** Instantiated by JUnit. */
    public SnapshotStore() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link TransactionContract} at this run's durability. */
  @Nested
  public class Transactions extends TransactionContract {
    /** Instantiated by JUnit. */
    public Transactions() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link ConcurrencyContract} at this run's durability. */
  @Nested
  public class Concurrency extends ConcurrencyContract {
    /** Instantiated by JUnit. */
    public Concurrency() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link RestartContract} at this run's durability. */
  @Nested
  public class Restart extends RestartContract {
    /** Instantiated by JUnit. */
    public Restart() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link BackendContract} at this run's durability. */
  @Nested
  public class Backend extends BackendContract {
    /** Instantiated by JUnit. */
    public Backend() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link ModelBasedContract} at this run's durability. */
  @Nested
  public class ModelBased extends ModelBasedContract {
    /** Instantiated by JUnit. */
    public ModelBased() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link EncryptionContract} at this run's durability. */
  @Nested
  public class Encryption extends EncryptionContract {
    /** Instantiated by JUnit. */
    public Encryption() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /** {@link ReadTransactionContract} at this run's durability. */
  @Nested
  public class ReadTransactions extends ReadTransactionContract {
    /** Instantiated by JUnit. */
    public ReadTransactions() {}

    @Override
    protected String backendConfig() {
      return config();
    }

    @Override
    protected String extraConfig() {
      return extra();
    }

    @Override
    String suiteName() {
      return BackendTck.this.suiteName(this);
    }
  }

  /**
   * Supplies the durabilities of the concrete test class's {@link TckDurabilities}; a class without
   * it (or with an empty list) fails at discovery with a message naming the class.
   */
  static final class Durabilities implements ArgumentsProvider {
    @Override
    public Stream<? extends Arguments> provideArguments(
        ParameterDeclarations parameters, ExtensionContext context) {
      Class<?> testClass = context.getRequiredTestClass();
      TckDurabilities declared = testClass.getAnnotation(TckDurabilities.class);
      if (declared == null || declared.value().length == 0) {
        throw new IllegalStateException(
            testClass.getName()
                + " extends BackendTck but does not say at which durabilities to run the TCK:"
                + " annotate it with @TckDurabilities({...}) listing every durability the backend"
                + " accepts");
      }
      return Arrays.stream(declared.value()).distinct().map(Arguments::of);
    }
  }
}
