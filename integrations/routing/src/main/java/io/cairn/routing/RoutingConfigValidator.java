package io.cairn.routing;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import io.cairn.persistence.spi.Settings;
import java.util.List;

/**
 * Validates {@code cairn.route-tables} (and the deprecated {@code cairn.routing}, and the keys of
 * the deprecated {@code cairn.routing-defaults}): every table's keys (unknown keys with a
 * did-you-mean suggestion), value ranges, and that its {@code backend} names a configured backend,
 * each problem with its path and file:line. Registered in {@code META-INF/services}; public only
 * for {@link java.util.ServiceLoader}.
 */
public final class RoutingConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public RoutingConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    Settings.renamedDefaultsProblems(root, problems); // keys under cairn.routing-defaults
    RoutingSettings.readAll(root, problems);
  }
}
