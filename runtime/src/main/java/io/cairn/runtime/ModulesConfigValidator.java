package io.cairn.runtime;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * Validates {@code cairn.modules}: each entry is a built-in module name or a class name, listed
 * once, every configured subsystem section has its module listed, and every class name names a
 * class on the classpath that implements {@code com.google.inject.Module} and has a public
 * constructor taking a {@code Config} or nothing. The class is loaded without being initialized (no
 * static initializer runs). Registered in {@code META-INF/services}; public only for {@link
 * java.util.ServiceLoader}.
 */
public final class ModulesConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public ModulesConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    List<ModuleEntry> entries = ModuleList.read(root, problems);
    ModuleList.checkSectionsHaveModules(root, entries, problems);
    ModuleList.checkClasses(entries, Thread.currentThread().getContextClassLoader(), problems);
  }
}
