package io.cairn.guice;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * The validator of {@code cairn.modules} moved to {@code cairn-runtime}, which registers it; this
 * class is no longer registered (the section would be checked twice).
 *
 * @deprecated use {@link io.cairn.runtime.ModulesConfigValidator}.
 */
@Deprecated(since = "0.2", forRemoval = true)
public final class ModulesConfigValidator implements ConfigSectionValidator {
  private final ConfigSectionValidator delegate = new io.cairn.runtime.ModulesConfigValidator();

  public ModulesConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    delegate.validate(root, problems);
  }
}
