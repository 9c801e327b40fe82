package io.cairn.persistence;

import java.util.List;

/**
 * The configuration cannot be used. Carries every problem found in one pass, so an operator fixes a
 * file once rather than once per error. Nothing is opened or written when this is thrown.
 */
public class ConfigurationException extends PersistenceException {
  private static final long serialVersionUID = 1L;
  private final transient List<ConfigProblem> problems;

  public ConfigurationException(List<ConfigProblem> problems) {
    super(render(problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigurationException(String message, Throwable cause) {
    super(message, cause);
    this.problems = List.of();
  }

  public ConfigurationException(String message) {
    this(message, null);
  }

  /** The individual problems, in the order found; empty when the failure was not per-setting. */
  public List<ConfigProblem> problems() {
    return problems;
  }

  private static String render(List<ConfigProblem> problems) {
    StringBuilder sb = new StringBuilder();
    sb.append("Invalid Cairn configuration: ")
        .append(problems.size())
        .append(problems.size() == 1 ? " problem" : " problems");
    for (ConfigProblem p : problems) {
      sb.append(System.lineSeparator()).append("  - ").append(p);
    }
    return sb.toString();
  }
}
