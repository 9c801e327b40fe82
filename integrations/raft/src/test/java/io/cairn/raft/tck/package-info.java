/**
 * Contract suite for {@link io.cairn.raft.RaftStorage}, shipped in the {@code cairn-raft} test-jar
 * (classifier {@code tests}) so the main jar carries no JUnit.
 *
 * <p>A third-party backend runs it with {@code cairn-raft:tests}, {@code cairn-persistence-tck} and
 * {@code junit-jupiter} in test scope and one subclass:
 *
 * <pre>{@code
 * class MyRaftStorageTest extends RaftStorageContract {
 *   @Override
 *   protected String backendConfig() {
 *     return "type = mine, durability = normal";
 *   }
 * }
 * }</pre>
 *
 * It builds on {@link io.cairn.tck.ContractSupport} (fresh registry per test, {@code tckSeed}).
 * Restart tests need {@link io.cairn.persistence.Capability#DURABLE} and are skipped otherwise; the
 * model-based test then restarts only the {@code RaftStorage} object, not the backend.
 */
package io.cairn.raft.tck;
