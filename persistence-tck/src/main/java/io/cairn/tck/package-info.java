/**
 * The Cairn technology compatibility kit: abstract JUnit 5 contract suites that any {@link
 * io.cairn.persistence.StorageBackend} must pass.
 *
 * <h2>Testing a backend</h2>
 *
 * <ol>
 *   <li>Register the provider in {@code
 *       META-INF/services/io.cairn.persistence.spi.StorageBackendProvider} and declare its defaults
 *       under {@code cairn.backend-defaults.<type>} in the module's {@code reference.conf}.
 *   <li>Add {@code cairn-persistence-tck} and {@code junit-jupiter} in test scope.
 *   <li>Write one test class that extends {@link io.cairn.tck.BackendTck}, names the durabilities
 *       the backend accepts and returns its configuration body at each:
 *       <pre>{@code
 * @TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
 * class MyBackendTckTest extends BackendTck {
 *   @Override
 *   protected String backendConfig(Durability durability) {
 *     return "type = mine, durability = " + durability.configName();
 *   }
 * }
 * }</pre>
 *       JUnit (5.13 or later) runs every suite once per durability. A single suite can still be
 *       extended on its own (e.g. {@code class MyKeyValueStoreTest extends KeyValueStoreContract}
 *       with {@code backendConfig()}).
 * </ol>
 *
 * The suites are {@link io.cairn.tck.KeyValueStoreContract}, {@link io.cairn.tck.LogStoreContract},
 * {@link io.cairn.tck.SnapshotStoreContract}, {@link io.cairn.tck.TransactionContract}, {@link
 * io.cairn.tck.ConcurrencyContract}, {@link io.cairn.tck.RestartContract}, {@link
 * io.cairn.tck.BackendContract} and {@link io.cairn.tck.ModelBasedContract}. Each test opens a
 * fresh {@link io.cairn.persistence.PersistenceRegistry} on a temporary directory with a {@link
 * io.cairn.tck.ManualClock} (see {@link io.cairn.tck.ContractSupport}). Tests of optional behaviour
 * are skipped, never failed, when the backend lacks the {@link io.cairn.persistence.Capability}.
 *
 * <h2>Precision the suites demand</h2>
 *
 * <ul>
 *   <li>TTL expiry is {@code now + ttl} in milliseconds by the backend's clock ({@link
 *       io.cairn.persistence.spi.ArgumentChecks#expiryMillis}); entries are checked 1 ms before and
 *       after, and {@code Entry.expiresAtMillis()} must equal that instant.
 *   <li>{@code SnapshotInfo.createdAtMillis()} is the backend clock's time of the save.
 *   <li>{@code SnapshotStore.save} reads its input to end-of-stream and does not close it; an input
 *       that throws makes save throw a {@code PersistenceException} and leaves the previous
 *       snapshot of that version intact.
 *   <li>Counts in {@code BackendStats} are exact or -1.
 * </ul>
 *
 * <h2>What the suites run in child JVMs</h2>
 *
 * Some rules can only be checked across processes, so a few tests start a child JVM on the test's
 * class path ({@link io.cairn.tck.crash.ChildJvm}): {@link
 * io.cairn.tck.RestartContract#acknowledgedWritesSurviveAKilledProcess()} kills a writer with
 * SIGKILL and checks every acknowledged write (durability {@code normal} and {@code full}; a
 * backend that writes only on close fails it), {@link
 * io.cairn.tck.BackendContract#aSecondOpenOfTheSameDirectoryInAnotherProcessIsLocked()} expects
 * {@link io.cairn.persistence.BackendLockedException}, and {@link
 * io.cairn.tck.SnapshotStoreContract#aSnapshotLargerThanTheHeapIsSavedAndLoaded()} saves 96 MiB
 * with a 48 MiB heap (backends with {@link io.cairn.persistence.Capability#LARGE_SNAPSHOTS}). For
 * crashes at random points, also run {@link io.cairn.tck.crash.CrashHarness}.
 *
 * <p>System properties: {@code tckSeed} (seed of {@code random()} in every test), {@code
 * tckModelSeeds}, {@code tckModelSeed} and {@code tckModelOps} (see {@link
 * io.cairn.tck.ModelBasedContract}), {@code tckManyStores} (stores created by {@link
 * io.cairn.tck.BackendContract#manyStoresAreCheapToCreate()}, default 2,000) and {@code
 * tckVisibilityTransactions} (transactions of {@link
 * io.cairn.tck.ConcurrencyContract#aTransactionsWritesBecomeVisibleTogether()}, default 1,000).
 */
package io.cairn.tck;
