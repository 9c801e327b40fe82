package io.cairn.admin;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * Validates {@code cairn.admin} in the single eager validation pass: ranges, the token source
 * (readable file or set variable, never echoed). Registered in {@code META-INF/services}; public
 * only for {@link java.util.ServiceLoader}.
 */
public final class AdminConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public AdminConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    AdminSettings.read(root, System.getenv(), problems);
  }
}
