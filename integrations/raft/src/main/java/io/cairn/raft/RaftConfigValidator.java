package io.cairn.raft;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * Validates {@code cairn.raft-groups} (and the deprecated {@code cairn.raft}): every group's keys
 * (unknown keys with a did-you-mean suggestion), value ranges, and that its {@code backend} names a
 * configured backend, each problem with its path and file:line. Registered in {@code
 * META-INF/services}; public only for {@link java.util.ServiceLoader}.
 */
public final class RaftConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public RaftConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    RaftSettings.readAll(root, problems);
  }
}
