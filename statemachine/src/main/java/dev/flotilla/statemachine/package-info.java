/**
 * The deterministic heart of Flotilla: the registry of VMs, nodes, addresses, names, ports and files
 * that every node holds alike.
 *
 * <ul>
 *   <li>{@link dev.flotilla.statemachine.SpecRules}, {@link dev.flotilla.statemachine.Ids}: checks that need no state.
 *   <li>{@link dev.flotilla.statemachine.Rules}: (state, command, index) to result and changes, a pure function.
 *   <li>{@link dev.flotilla.statemachine.RegistryStore}: RocksDB, one WriteBatch per command with the applied index.
 *   <li>{@link dev.flotilla.statemachine.RegistryStateMachine}: the Ratis glue, snapshots as RocksDB checkpoints.
 * </ul>
 */
package dev.flotilla.statemachine;
