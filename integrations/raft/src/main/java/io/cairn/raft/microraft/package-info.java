/**
 * MicroRaft ({@code io.microraft:microraft}) on Cairn storage. The MicroRaft dependency is optional
 * in {@code cairn-raft}: add it yourself to use this package.
 *
 * <pre>{@code
 * RaftStorage storage = RaftStorage.open(registry.backend("raft"), "orders");
 * RaftStoreSerializer serializer = ...; // encodes your endpoints and operations
 * RestoredRaftState restored = CairnRaftStore.restore(storage, serializer);  // null on first start
 * RaftNode.RaftNodeBuilder b = RaftNode.newBuilder().setGroupId("orders")
 *     .setStore(new CairnRaftStore(storage, serializer))
 *     .setTransport(transport).setStateMachine(stateMachine);
 * RaftNode node = (restored == null
 *         ? b.setLocalEndpoint(me).setInitialGroupMembers(members)
 *         : b.setRestoredState(restored))
 *     .build();
 * }</pre>
 */
package io.cairn.raft.microraft;
