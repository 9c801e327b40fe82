package io.cairn.persistence;

import java.util.List;

/**
 * Outcome of {@link StorageBackend#verify(Progress)}.
 *
 * @param backend instance name
 * @param checked how many units were checked (pages, files, snapshots; backend-defined)
 * @param problems one line per problem found, each naming the file or store and what is wrong;
 *     empty when healthy
 */
public record VerifyReport(String backend, long checked, List<String> problems) {
  public VerifyReport {
    problems = List.copyOf(problems);
  }

  public boolean healthy() {
    return problems.isEmpty();
  }
}
