package io.cairn.queue;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.util.List;

/**
 * Validates {@code cairn.queues}: every queue's keys against {@code cairn.queue-defaults} (unknown
 * keys with a did-you-mean suggestion), their types and ranges, and that the backend each queue
 * names is configured under {@code cairn.backends}. Public only for {@link
 * java.util.ServiceLoader}; registered in {@code
 * META-INF/services/io.cairn.persistence.spi.ConfigSectionValidator}.
 */
public final class QueueConfigValidator implements ConfigSectionValidator {
  /** For {@link java.util.ServiceLoader}. */
  public QueueConfigValidator() {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    QueueSettings.validateAll(root, problems);
  }
}
