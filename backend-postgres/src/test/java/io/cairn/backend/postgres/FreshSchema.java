package io.cairn.backend.postgres;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Empties the TCK's schema before each test ({@link TestPostgres#emptySchema}), so every contract
 * test starts on an empty database as it starts on an empty data directory with the embedded
 * backends. Runs before the suites' own {@code @BeforeEach} (extension callbacks come first), i.e.
 * before the registry opens.
 */
final class FreshSchema implements BeforeEachCallback {
  /** The schema every contract suite of this module uses. */
  static final String TCK_SCHEMA = "tck";

  @Override
  public void beforeEach(ExtensionContext context) {
    TestPostgres.shared().emptySchema(TCK_SCHEMA);
  }

  /** The backend entry of the contract suites at {@code durability}. */
  static String config(String durability) {
    return TestPostgres.shared().backendConfig(TCK_SCHEMA, durability);
  }
}
