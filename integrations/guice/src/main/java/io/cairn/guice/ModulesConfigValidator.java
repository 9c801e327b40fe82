package io.cairn.guice;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * Validates {@code cairn.modules}: each entry is a built-in module name or a class name, listed
 * once, and every configured subsystem section has its module listed. Whether a class name exists
 * and is a Guice module is checked when {@link CairnModule} installs it. Registered in {@code
 * META-INF/services}; public only for {@link java.util.ServiceLoader}.
 */
public final class ModulesConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public ModulesConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    ModuleList.checkSectionsHaveModules(root, ModuleList.read(root, problems), problems);
  }
}
