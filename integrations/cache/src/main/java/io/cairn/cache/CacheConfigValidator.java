package io.cairn.cache;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * Validates {@code cairn.caches} (and the deprecated {@code cairn.cache}) and {@code
 * cairn.cache-profiles}: keys against {@code cairn.cache-defaults} (unknown keys with a
 * did-you-mean suggestion, also inside {@code l1} and {@code l2}), types and ranges, that each
 * cache's profile exists, and that the backend it names is configured under {@code cairn.backends}.
 * Public only for {@link java.util.ServiceLoader}.
 */
public final class CacheConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public CacheConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    CacheSettings.validateAll(root, problems);
  }
}
