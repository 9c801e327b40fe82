package io.cairn.persistence.spi;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import java.util.List;

/**
 * Validates one section of the {@code cairn} tree (e.g. {@code cairn.queues}) as part of the single
 * eager validation pass. Registered through {@code
 * META-INF/services/io.cairn.persistence.spi.ConfigSectionValidator} by the module that owns the
 * section. Must not throw for bad settings: add one {@link ConfigProblem} per bad setting.
 *
 * <p>Before validators run, {@code io.cairn.config.CairnConfig#validate} rejects every key under
 * {@code cairn} that no {@code reference.conf} declares. A section that is a map of user-named
 * entries (like {@code cairn.backends}) is declared as an <b>empty object</b> in the owning
 * module's {@code reference.conf}, e.g. {@code cairn.queues {}}: that key check then stops there,
 * and this validator must check each entry, including unknown keys inside it ({@link
 * Settings#rejectUnknownKeys}).
 */
public interface ConfigSectionValidator {
  /**
   * @param root the whole resolved configuration, reference defaults included
   * @param problems where problems are added
   */
  void validate(Config root, List<ConfigProblem> problems);
}
