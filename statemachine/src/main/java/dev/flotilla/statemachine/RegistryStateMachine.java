package dev.flotilla.statemachine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ErrorCode;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.proto.Rejection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.StaleReadException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis glue around the registry: log entries carry {@link Command} bytes, replies carry
 * {@link CommandResult} bytes, queries carry {@link Query} / {@link QueryResult} bytes. The work is done
 * by {@link Rules} and {@link RegistryStore}; this class only translates and keeps Ratis's bookkeeping.
 */
public class RegistryStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryStateMachine.class);

    private final RegistrySettings settings;
    private final Subnet subnet;
    private final CheckpointStorage storage = new CheckpointStorage();
    private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();
    /** Readers (queries, apply) share it; swapping the store after a snapshot install takes it alone. */
    private final ReentrantReadWriteLock storeLock = new ReentrantReadWriteLock();
    private RegistryStore store;

    public RegistryStateMachine(RegistrySettings settings) {
        this.settings = settings;
        this.subnet = settings.subnet();
    }

    public void addListener(RegistryListener listener) {
        listeners.add(listener);
    }

    public void removeListener(RegistryListener listener) {
        listeners.remove(listener);
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        getLifeCycle().startAndTransition(this::openStore);
    }

    /**
     * Opens the live store, first replacing it with the newest snapshot when the snapshot is ahead (the
     * node never had a store, or crashed after installing a snapshot but before swapping it in).
     */
    private void openStore() throws IOException {
        storeLock.writeLock().lock();
        try {
            Path live = storage.liveDir();
            SnapshotInfo snapshot = storage.getLatestSnapshot();
            if (snapshot != null && !Files.exists(live.resolve("CURRENT"))) {
                restore(snapshot);
            }
            store = RegistryStore.open(live, subnet, settings.sync());
            if (snapshot != null && snapshot.getIndex() > store.applied().index()) {
                LOG.info("registry store at {} is at index {}, behind snapshot {}; loading the snapshot",
                        live, store.applied().index(), snapshot.getTermIndex());
                store.close();
                store = null;
                restore(snapshot);
                store = RegistryStore.open(live, subnet, settings.sync());
            }
            RegistryStore.AppliedIndex at = store.applied();
            setLastAppliedTermIndex(TermIndex.valueOf(at.term(), at.index()));
            LOG.info("registry store at {} opened at term {} index {}", live, at.term(), at.index());
        } finally {
            storeLock.writeLock().unlock();
        }
    }

    private void restore(SnapshotInfo snapshot) throws IOException {
        Path dir = storage.latestDir().orElseThrow(() -> new IOException("snapshot " + snapshot.getTermIndex()
                + " is listed but its directory is missing under " + storage.snapshotsDir()));
        storage.restoreInto(dir, storage.liveDir());
    }

    @Override
    public void pause() {
        LifeCycle lifeCycle = getLifeCycle();
        if (lifeCycle.getCurrentState() == LifeCycle.State.RUNNING) {
            lifeCycle.transition(LifeCycle.State.PAUSING);
            lifeCycle.transition(LifeCycle.State.PAUSED);
        }
    }

    /** Called after a snapshot from the leader was installed: swap the live store for it. */
    @Override
    public void reinitialize() throws IOException {
        long index;
        storeLock.writeLock().lock();
        try {
            storage.refresh();
            SnapshotInfo snapshot = storage.getLatestSnapshot();
            if (snapshot == null) {
                throw new IOException("asked to reload, but " + storage.snapshotsDir() + " holds no snapshot");
            }
            LOG.info("loading installed snapshot {} into the registry store", snapshot.getTermIndex());
            if (store != null) {
                store.close();
                store = null;
            }
            restore(snapshot);
            store = RegistryStore.open(storage.liveDir(), subnet, settings.sync());
            setLastAppliedTermIndex(snapshot.getTermIndex());
            index = snapshot.getIndex();
        } finally {
            storeLock.writeLock().unlock();
        }
        LifeCycle lifeCycle = getLifeCycle();
        if (lifeCycle.getCurrentState() == LifeCycle.State.PAUSED) {
            lifeCycle.transition(LifeCycle.State.STARTING);
            lifeCycle.transition(LifeCycle.State.RUNNING);
        }
        for (RegistryListener l : listeners) {
            try {
                l.onReloaded(index);
            } catch (RuntimeException e) {
                LOG.warn("registry listener {} failed on reload at index {}", l, index, e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        storeLock.writeLock().lock();
        try {
            if (store != null) {
                store.close();
                store = null;
            }
        } finally {
            storeLock.writeLock().unlock();
        }
        getLifeCycle().checkStateAndClose();
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    // ------------------------------------------------------------------ writes

    /**
     * Runs the checks that need no state before the entry enters the log. The API checks first; this is
     * defence in depth, so a buggy or hostile client cannot fill the log with entries every node rejects.
     */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        ByteString content = request.getMessage().getContent();
        TransactionContext.Builder builder = TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
        Optional<Rejection> problem;
        try {
            Command command = Command.parseFrom(content.toByteArray());
            problem = Rules.precheck(command);
            if (problem.isEmpty() && unstamped(command)) {
                // The receiving node should have stamped the time; if it did not, the leader does, here, before
                // the entry enters the log, so every replica still applies the same time.
                builder.setLogData(UnsafeByteOperations.unsafeWrap(stamp(command, System.currentTimeMillis()).toByteArray()));
            }
        } catch (InvalidProtocolBufferException e) {
            problem = Optional.of(Reject.invalid("command", "the request is not a Command message: " + e.getMessage()));
        }
        TransactionContext trx = builder.build();
        problem.ifPresent(r -> trx.setException(new StateMachineException(
                r.getCode() + " " + r.getField() + ": " + r.getMessage())));
        return trx;
    }

    /** What a replayed entry first answered, from the request ids the store remembers. */
    private CommandResult remembered(Command command, long index) {
        if (command.hasBatch()) {
            dev.flotilla.proto.BatchResults.Builder results = dev.flotilla.proto.BatchResults.newBuilder();
            for (Command c : command.getBatch().getCommandsList()) {
                results.addResults(remembered(c, index));
            }
            return CommandResult.newBuilder().setBatch(results).setIndex(index).build();
        }
        return store.firstResult(command, index);
    }

    private static boolean unstamped(Command command) {
        if (command.getStampedMs() == 0) return true;
        for (Command c : command.getBatch().getCommandsList()) {
            if (c.getStampedMs() == 0) return true;
        }
        return false;
    }

    private static Command stamp(Command command, long now) {
        Command.Builder b = command.toBuilder();
        if (b.getStampedMs() == 0) b.setStampedMs(now);
        if (b.hasBatch()) {
            dev.flotilla.proto.CommandBatch.Builder batch = b.getBatchBuilder();
            for (int i = 0; i < batch.getCommandsCount(); i++) {
                if (batch.getCommands(i).getStampedMs() == 0) {
                    batch.setCommands(i, batch.getCommands(i).toBuilder().setStampedMs(now));
                }
            }
        }
        return b.build();
    }

    /**
     * Keeps the applied index monotonic. After a restart without a snapshot Ratis replays the log from
     * the start while the store already holds entries up to its own applied index; the replayed
     * entries (and Ratis's configuration-entry notifications for them) must not move it backwards.
     */
    @Override
    protected boolean updateLastAppliedTermIndex(long term, long index) {
        TermIndex current = getLastAppliedTermIndex();
        if (current != null && index <= current.getIndex()) {
            return false;
        }
        return super.updateLastAppliedTermIndex(term, index);
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long term = entry.getTerm();
        long index = entry.getIndex();
        long started = System.nanoTime();
        Command command;
        try {
            command = Command.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray());
        } catch (InvalidProtocolBufferException e) {
            // startTransaction keeps such entries out; still, an unreadable entry is rejected alike
            // everywhere rather than stopping every node.
            command = Command.getDefaultInstance();
        }
        CommandResult result;
        storeLock.readLock().lock();
        try {
            Optional<Outcome> outcome = store.apply(term, index, command);
            if (outcome.isPresent()) {
                result = outcome.get().result();
            } else {
                // A replay of an entry the store already holds: nothing is written; no client waits for it.
                result = remembered(command, index);
            }
            updateLastAppliedTermIndex(term, index);
        } catch (IOException | RuntimeException e) {
            // The store failed to write (disk full, corruption). Rejections never get here; this is real
            // trouble, and a failed future would let Ratis move on with this replica silently behind. Throwing
            // stops Ratis's apply thread and with it this server, which is what DESIGN rule 4 asks for.
            LOG.error("cannot apply log index {}: {}; stopping this replica", index, e.getMessage(), e);
            throw new IllegalStateException("cannot apply log index " + index + " to the registry store: " + e.getMessage(), e);
        } finally {
            storeLock.readLock().unlock();
        }
        long nanos = System.nanoTime() - started;
        if (result.hasBatch()) {
            // Listeners hear each command of a batch, as if each were its own entry at this index.
            int n = command.getBatch().getCommandsCount();
            for (int i = 0; i < n; i++) {
                notifyApplied(index, command.getBatch().getCommands(i), result.getBatch().getResults(i), nanos / n);
            }
        } else {
            notifyApplied(index, command, result, nanos);
        }
        return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(result.toByteArray())));
    }

    private void notifyApplied(long index, Command command, CommandResult result, long nanos) {
        for (RegistryListener l : listeners) {
            try {
                l.onApplied(index, command, result, nanos);
            } catch (RuntimeException e) {
                LOG.warn("registry listener {} failed on index {}", l, index, e);
            }
        }
    }

    // ------------------------------------------------------------------ reads

    @Override
    public CompletableFuture<Message> query(Message request) {
        QueryResult answer;
        try {
            Query query = Query.parseFrom(request.getContent().toByteArray());
            answer = queryLocal(query);
        } catch (InvalidProtocolBufferException e) {
            answer = QueryResult.newBuilder()
                    .setRejection(Reject.of(ErrorCode.INVALID, "query", "the request is not a Query message: " + e.getMessage()))
                    .build();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(answer.toByteArray())));
    }

    @Override
    public CompletableFuture<Message> queryStale(Message request, long minIndex) {
        long applied = appliedIndex();
        if (applied < minIndex) {
            return CompletableFuture.failedFuture(new StaleReadException("this node has applied up to index " + applied
                    + ", below the requested minimum " + minIndex + "; retry later or read from the leader"));
        }
        return query(request);
    }

    /**
     * Answers a query from this replica's store without going through Ratis: may be stale. The node uses
     * it for its own caches; client reads go through {@link #query} after a ReadIndex.
     */
    public QueryResult queryLocal(Query query) {
        return readLocal(s -> Queries.answer(s, query));
    }

    /**
     * Runs a read against this replica's store (possibly stale), under the lock that keeps the store from
     * being swapped for an installed snapshot meanwhile. Do not keep the store beyond the call.
     */
    public <T> T readLocal(java.util.function.Function<RegistryStore, T> read) {
        storeLock.readLock().lock();
        try {
            if (store == null) {
                throw new IllegalStateException("the registry store is not open (the state machine is starting, reloading"
                        + " a snapshot or closed); retry shortly");
            }
            return read.apply(store);
        } finally {
            storeLock.readLock().unlock();
        }
    }

    /** The index of the last log entry applied here (state machine entries and Ratis's own). */
    public long appliedIndex() {
        return getLastAppliedTermIndex().getIndex();
    }

    /** The state digest at the store's applied index. */
    public StateDigest digest() {
        return readLocal(RegistryStore::digest);
    }

    // ------------------------------------------------------------------ snapshots

    /**
     * Checkpoints the store at the last applied index. Ratis calls this on its apply thread, so no entry
     * is applied meanwhile. The applied index is first written into the store itself (it may be ahead of
     * the store's own by configuration entries), so the checkpoint and its name agree; the snapshot is
     * published only once all its files are durable.
     */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        SnapshotInfo latest = storage.getLatestSnapshot();
        if (latest != null && latest.getIndex() >= last.getIndex()) {
            return latest.getIndex();
        }
        storeLock.readLock().lock();
        try {
            store.markApplied(last.getTerm(), last.getIndex());
            Path tmp = storage.snapshotsDir().resolve(CheckpointStorage.name(last.getTerm(), last.getIndex()) + ".tmp");
            CheckpointStorage.deleteTree(tmp);
            store.checkpoint(tmp);
            storage.publish(tmp, last.getTerm(), last.getIndex());
        } finally {
            storeLock.readLock().unlock();
        }
        LOG.info("took registry snapshot at {}", last);
        return last.getIndex();
    }

    // ------------------------------------------------------------------ events

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        for (RegistryListener l : listeners) {
            try {
                l.onLeaderChanged(newLeaderId);
            } catch (RuntimeException e) {
                LOG.warn("registry listener {} failed on leader change to {}", l, newLeaderId, e);
            }
        }
    }

    @Override
    public void notifyLeaderReady() {
        for (RegistryListener l : listeners) {
            try {
                l.onLeaderReady();
            } catch (RuntimeException e) {
                LOG.warn("registry listener {} failed on leader ready", l, e);
            }
        }
    }
}
