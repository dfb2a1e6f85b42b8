package dev.flotilla.statemachine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DnsRecord;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.VmRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The registry on disk: one RocksDB with a column family per kind of record. Each applied command's
 * writes and the applied term/index go into one WriteBatch, so a crash leaves either both or neither,
 * and a replay skips exactly the entries already applied.
 */
public final class RegistryStore implements RegistryState, AutoCloseable {
    /** The data column families, in the order the digest reads them. */
    static final List<String> DATA_FAMILIES = List.of("vms", "nodes", "ipam", "dns", "ports", "files", "requests");
    static final String META = "meta";
    private static final byte[] APPLIED_KEY = "applied".getBytes(StandardCharsets.UTF_8);
    private static final byte REQUEST_BY_ID = 'r';
    private static final byte REQUEST_BY_INDEX = 'i';

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final Subnet subnet;
    private final RocksDB db;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions writeOptions;
    private final List<ColumnFamilyHandle> handles;
    private final ColumnFamilyHandle vms;
    private final ColumnFamilyHandle nodes;
    private final ColumnFamilyHandle ipam;
    private final ColumnFamilyHandle dns;
    private final ColumnFamilyHandle ports;
    private final ColumnFamilyHandle files;
    private final ColumnFamilyHandle requests;
    private final ColumnFamilyHandle meta;
    /** Subnet offsets held by VMs, mirrored from the ipam family so the lowest free address is one lookup. */
    private final BitSet taken = new BitSet();
    /** Ids of unclaimed warm VMs, mirrored from the vms family so a create can look for one without a scan. */
    private final Set<String> warm = ConcurrentHashMap.newKeySet();
    /**
     * Where each VM is placed and which are lua VMs, mirrored from the vms family: each node's agent and
     * the simulated network read their own few VMs often, and a scan of every VM would cost them time in
     * proportion to the whole fleet.
     */
    private final Map<String, String> nodeOf = new ConcurrentHashMap<>();
    private final Map<String, NavigableSet<String>> onNode = new ConcurrentHashMap<>();
    private final NavigableSet<String> lua = new ConcurrentSkipListSet<>();
    private final NavigableSet<String> controlled = new ConcurrentSkipListSet<>();
    private volatile AppliedIndex applied;

    private RegistryStore(Path dir, Subnet subnet, boolean sync) throws IOException {
        this.dir = dir;
        this.subnet = subnet;
        Files.createDirectories(dir);
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        // Most point reads of the apply path miss (a new request id, a new job id); a Bloom filter per
        // table answers a miss without reading the table's blocks.
        cfOptions = new ColumnFamilyOptions().setTableFormatConfig(new BlockBasedTableConfig()
                .setFilterPolicy(new BloomFilter(10, false)).setWholeKeyFiltering(true));
        cfOptions.setMemtableWholeKeyFiltering(true).setMemtablePrefixBloomSizeRatio(0.02);
        writeOptions = new WriteOptions().setSync(sync);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
        for (String name : DATA_FAMILIES) {
            descriptors.add(new ColumnFamilyDescriptor(bytes(name), cfOptions));
        }
        descriptors.add(new ColumnFamilyDescriptor(bytes(META), cfOptions));
        handles = new ArrayList<>();
        try {
            db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            writeOptions.close();
            cfOptions.close();
            dbOptions.close();
            throw new IOException("cannot open the registry store at " + dir + ": " + e.getMessage()
                    + "; check the directory is writable and no other node process uses it", e);
        }
        vms = handles.get(1);
        nodes = handles.get(2);
        ipam = handles.get(3);
        dns = handles.get(4);
        ports = handles.get(5);
        files = handles.get(6);
        requests = handles.get(7);
        meta = handles.get(8);
        applied = readApplied(null);
        try (RocksIterator it = db.newIterator(ipam)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                int address = ByteBuffer.wrap(it.key()).getInt();
                int offset = address - subnet.network();
                if (Integer.compareUnsigned(offset, subnet.size()) < 0) {
                    taken.set(offset);
                }
            }
        }
        try (RocksIterator it = db.newIterator(vms)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                VmRecord vm = parse(it.value(), VmRecord::parseFrom);
                if (vm.getWarm()) warm.add(vm.getId());
                index(vm);
            }
        }
    }

    /** Opens (or creates) the store in a directory. With {@code sync} every batch is fsynced before it counts. */
    public static RegistryStore open(Path dir, Subnet subnet, boolean sync) throws IOException {
        return new RegistryStore(dir, subnet, sync);
    }

    public Path dir() {
        return dir;
    }

    /** The term and index of the last log entry whose effect is in this store. */
    public AppliedIndex applied() {
        return applied;
    }

    /**
     * Applies a command at a log index, unless the store already holds that index (a replay): then
     * nothing is written and the answer is empty.
     */
    public synchronized Optional<Outcome> apply(long term, long index, Command command) throws IOException {
        if (index <= applied.index()) {
            return Optional.empty();
        }
        if (command.hasBatch()) {
            return Optional.of(applyBatch(term, index, command, Integer.MAX_VALUE));
        }
        Outcome outcome = Rules.apply(this, command, index);
        commit(term, index, outcome.changes());
        return Optional.of(outcome);
    }

    /**
     * Applies a batch's commands in order, each in its own WriteBatch with a mark of how many are done,
     * so each sees the ones before it and a crash part-way resumes after the last one written (the
     * entry is replayed; the commands already done are skipped and answered from their request ids).
     * A batch of the wrong shape is refused whole; each command's own checks are Rules.apply's.
     */
    private Outcome applyBatch(long term, long index, Command command, int stopAfter) throws IOException {
        Optional<dev.flotilla.proto.Rejection> problem = Batch.checkShape(command.getBatch());
        if (problem.isPresent()) {
            CommandResult rejected = Reject.result(problem.get()).toBuilder().setIndex(index).build();
            commit(term, index, List.of());
            return new Outcome(rejected, List.of());
        }
        List<Command> commands = command.getBatch().getCommandsList();
        int done = index == applied.index() + 1 ? applied.nextParts() : 0;
        dev.flotilla.proto.BatchResults.Builder results = dev.flotilla.proto.BatchResults.newBuilder();
        for (int i = 0; i < commands.size() && i < stopAfter; i++) {
            Command c = commands.get(i);
            if (i < done) {
                results.addResults(partResult(i, c, index));
                continue;
            }
            Outcome outcome = Rules.apply(this, c, index);
            int part = i;
            if (i == commands.size() - 1) {
                // the entry is whole: the parts' results are not needed any more
                commit(new AppliedIndex(term, index, 0), outcome.changes(), b -> {
                    for (int j = 0; j < part; j++) {
                        b.delete(meta, partKey(j));
                    }
                });
            } else {
                // each part keeps its result beside its changes, so a replay after a crash answers as the first run
                commit(new AppliedIndex(applied.term(), applied.index(), i + 1), outcome.changes(),
                        b -> b.put(meta, partKey(part), outcome.result().toByteArray()));
            }
            results.addResults(outcome.result());
        }
        return new Outcome(CommandResult.newBuilder().setBatch(results).setIndex(index).build(), List.of());
    }

    private static byte[] partKey(int part) {
        return ("part/" + part).getBytes(StandardCharsets.UTF_8);
    }

    /** What part {@code part} of the batch being applied answered before a crash cut the batch short. */
    private CommandResult partResult(int part, Command c, long index) throws IOException {
        try {
            byte[] v = db.get(meta, partKey(part));
            return v == null ? firstResult(c, index) : CommandResult.parseFrom(v);
        } catch (RocksDBException e) {
            throw new IOException("cannot read part " + part + " of log index " + index + " from the registry store at "
                    + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * What a command applied at {@code index} answered then, from its remembered request id; a plain
     * "done" when it had none (no client waits for such a replay).
     */
    public CommandResult firstResult(Command command, long index) {
        return request(command.getRequestId()).filter(r -> r.getIndex() == index)
                .orElse(CommandResult.newBuilder().setDone(true).setIndex(index).build());
    }

    /** For tests: applies only the first {@code parts} commands of a batch, as a crash part-way leaves it. */
    synchronized void applyPartOfBatch(long term, long index, Command batch, int parts) throws IOException {
        if (index == applied.index() + 1 && parts < batch.getBatch().getCommandsCount()) {
            applyBatch(term, index, batch, parts);
        }
    }

    /** Records that the log is applied up to an entry that changed nothing here (e.g. a configuration entry). */
    public synchronized void markApplied(long term, long index) throws IOException {
        if (index > applied.index()) {
            commit(term, index, List.of());
        }
    }

    /** Writes a command's changes and the applied term/index in one batch. */
    synchronized void commit(long term, long index, List<Change> changes) throws IOException {
        commit(new AppliedIndex(term, index, 0), changes);
    }

    private void commit(AppliedIndex at, List<Change> changes) throws IOException {
        commit(at, changes, b -> { });
    }

    private interface MetaWrites {
        void add(WriteBatch batch) throws RocksDBException;
    }

    private void commit(AppliedIndex at, List<Change> changes, MetaWrites extra) throws IOException {
        List<Runnable> after = new ArrayList<>();
        try (WriteBatch batch = new WriteBatch()) {
            for (Change change : changes) {
                write(batch, change, after);
            }
            extra.add(batch);
            batch.put(meta, APPLIED_KEY, encode(at));
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw new IOException("cannot write log index " + (at.index() + (at.nextParts() > 0 ? 1 : 0))
                    + " to the registry store at " + dir + ": " + e.getMessage(), e);
        }
        after.forEach(Runnable::run);
        applied = at;
    }

    private void write(WriteBatch b, Change change, List<Runnable> after) throws RocksDBException {
        if (change instanceof Change.PutVm c) {
            b.put(vms, bytes(c.vm().getId()), c.vm().toByteArray());
            String id = c.vm().getId();
            after.add(c.vm().getWarm() ? () -> warm.add(id) : () -> warm.remove(id));
            after.add(() -> index(c.vm()));
        } else if (change instanceof Change.RemoveVm c) {
            b.delete(vms, bytes(c.jobId()));
            after.add(() -> warm.remove(c.jobId()));
            after.add(() -> unindex(c.jobId()));
        } else if (change instanceof Change.PutNode c) {
            b.put(nodes, bytes(c.node().getId()), c.node().toByteArray());
        } else if (change instanceof Change.RemoveNode c) {
            b.delete(nodes, bytes(c.nodeId()));
        } else if (change instanceof Change.TakeAddress c) {
            b.put(ipam, addressKey(c.ip()), bytes(c.jobId()));
            subnet.offsetOf(c.ip()).ifPresent(o -> after.add(() -> taken.set(o)));
        } else if (change instanceof Change.FreeAddress c) {
            b.delete(ipam, addressKey(c.ip()));
            subnet.offsetOf(c.ip()).ifPresent(o -> after.add(() -> taken.clear(o)));
        } else if (change instanceof Change.PutDns c) {
            b.put(dns, dnsKey(c.record().getType(), c.record().getName()), c.record().toByteArray());
        } else if (change instanceof Change.RemoveDns c) {
            b.delete(dns, dnsKey(c.type(), c.name()));
        } else if (change instanceof Change.TakePort c) {
            b.put(ports, portKey(c.port(), c.proto()), bytes(c.jobId()));
        } else if (change instanceof Change.FreePort c) {
            b.delete(ports, portKey(c.port(), c.proto()));
        } else if (change instanceof Change.PutFile c) {
            b.put(files, fileKey(c.jobId(), c.path()), c.data().toByteArray());
        } else if (change instanceof Change.RemoveFile c) {
            b.delete(files, fileKey(c.jobId(), c.path()));
        } else if (change instanceof Change.RememberRequest c) {
            b.put(requests, requestKey(c.requestId()), c.result().toByteArray());
            b.put(requests, requestIndexKey(c.index(), c.requestId()), bytes(c.requestId()));
        } else if (change instanceof Change.ForgetRequest c) {
            b.delete(requests, requestKey(c.requestId()));
            b.delete(requests, requestIndexKey(c.index(), c.requestId()));
            b.delete(requests, requestIndexKey(c.index())); // the form written before batches
        } else {
            throw new IllegalStateException("no store mapping for " + change);
        }
    }

    // ------------------------------------------------------------------ reads the rules use

    @Override
    public Optional<VmRecord> vm(String jobId) {
        return get(vms, bytes(jobId)).map(v -> parse(v, VmRecord::parseFrom));
    }

    @Override
    public Optional<NodeRecord> node(String nodeId) {
        return get(nodes, bytes(nodeId)).map(v -> parse(v, NodeRecord::parseFrom));
    }

    @Override
    public Optional<DnsRecord> dns(String type, String name) {
        return get(dns, dnsKey(type, name)).map(v -> parse(v, DnsRecord::parseFrom));
    }

    @Override
    public Optional<String> portHolder(int port, String proto) {
        return get(ports, portKey(port, proto)).map(v -> new String(v, StandardCharsets.UTF_8));
    }

    @Override
    public Optional<String> lowestFreeAddress() {
        int offset = taken.nextClearBit(Subnet.FIRST_HOST_OFFSET);
        return offset > subnet.lastHostOffset() ? Optional.empty() : Optional.of(subnet.address(offset));
    }

    @Override
    public Subnet subnet() {
        return subnet;
    }

    @Override
    public SortedMap<String, ByteString> files(String jobId) {
        SortedMap<String, ByteString> out = new TreeMap<>();
        byte[] prefix = fileKey(jobId, "");
        try (RocksIterator it = db.newIterator(files)) {
            for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                byte[] key = it.key();
                out.put(new String(key, prefix.length, key.length - prefix.length, StandardCharsets.UTF_8),
                        ByteString.copyFrom(it.value()));
            }
        }
        return out;
    }

    @Override
    public Optional<CommandResult> request(String requestId) {
        return get(requests, requestKey(requestId)).map(v -> parse(v, CommandResult::parseFrom));
    }

    @Override
    public List<RequestMark> requestsUpTo(long index, int limit) {
        List<RequestMark> out = new ArrayList<>();
        if (index < 0) {
            return out;
        }
        try (RocksIterator it = db.newIterator(requests)) {
            for (it.seek(new byte[] {REQUEST_BY_INDEX}); it.isValid() && out.size() < limit; it.next()) {
                byte[] key = it.key();
                if (key.length < 9 || key[0] != REQUEST_BY_INDEX) {
                    break;
                }
                long at = ByteBuffer.wrap(key, 1, 8).getLong();
                if (at > index) {
                    break;
                }
                out.add(new RequestMark(at, new String(it.value(), StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ reads for queries

    /** All VMs in job id order, or only a tenant's when {@code tenant} is not empty. */
    public List<VmRecord> listVms(String tenant) {
        return listVms(tenant, "");
    }

    /** VMs in job id order, only a tenant's and only those on a node when these are not empty. */
    public List<VmRecord> listVms(String tenant, String node) {
        return listVms(tenant, node, "");
    }

    /**
     * VMs in job id order, only a tenant's, only those on a node and only those of a runtime when these
     * are not empty. By node, of the lua runtime or controlled only, only those VMs are read (from
     * in-memory mirrors of the vms family); otherwise every VM is.
     */
    public List<VmRecord> listVms(String tenant, String node, String runtime) {
        return listVms(tenant, node, runtime, false);
    }

    /** The same, and with {@code onlyControlled} only the VMs a controller plans for ({@link #controlled}). */
    public List<VmRecord> listVms(String tenant, String node, String runtime, boolean onlyControlled) {
        java.util.function.Predicate<VmRecord> wanted = vm ->
                (tenant == null || tenant.isEmpty() || vm.getTenant().equals(tenant))
                && (node == null || node.isEmpty() || vm.getNode().equals(node))
                && (runtime == null || runtime.isEmpty() || vm.getSpec().getRuntime().equals(runtime))
                && (!onlyControlled || controlled(vm));
        List<VmRecord> out = new ArrayList<>();
        Set<String> ids = node != null && !node.isEmpty() ? onNode.getOrDefault(node, new TreeSet<>())
                : "lua".equals(runtime) ? lua : onlyControlled ? controlled : null;
        if (ids != null) {
            // The mirror is updated just after each write, so an id may be a moment out of date: the record
            // read is the truth, and the filter is applied to it again.
            for (String id : ids) {
                vm(id).filter(wanted).ifPresent(out::add);
            }
            return out;
        }
        try (RocksIterator it = db.newIterator(vms)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                VmRecord vm = parse(it.value(), VmRecord::parseFrom);
                if (wanted.test(vm)) {
                    out.add(vm);
                }
            }
        }
        return out;
    }

    private void index(VmRecord vm) {
        String id = vm.getId();
        String was = vm.getNode().isEmpty() ? nodeOf.remove(id) : nodeOf.put(id, vm.getNode());
        if (was != null && !was.equals(vm.getNode())) {
            NavigableSet<String> old = onNode.get(was);
            if (old != null) old.remove(id);
        }
        if (!vm.getNode().isEmpty()) {
            onNode.computeIfAbsent(vm.getNode(), n -> new ConcurrentSkipListSet<>()).add(id);
        }
        if ("lua".equals(vm.getSpec().getRuntime())) lua.add(id); else lua.remove(id);
        if (controlled(vm)) controlled.add(id); else controlled.remove(id);
    }

    /** Whether a leader's controller plans for this VM (see ListVms.controlled). */
    public static boolean controlled(VmRecord vm) {
        return !vm.getNode().isEmpty() || vm.getDesired() == dev.flotilla.proto.DesiredState.DESIRED_RUNNING
                || vm.getWarm() || vm.getSpec().hasWarmPool();
    }

    private void unindex(String id) {
        String was = nodeOf.remove(id);
        if (was != null) {
            NavigableSet<String> old = onNode.get(was);
            if (old != null) old.remove(id);
        }
        lua.remove(id);
        controlled.remove(id);
    }

    /** The unclaimed warm VMs, in job id order. */
    public List<VmRecord> listWarmVms() {
        List<VmRecord> out = new ArrayList<>();
        for (String id : new TreeSet<>(warm)) {
            // Claimed or deleted since the id was read: then it is simply not there.
            vm(id).filter(VmRecord::getWarm).ifPresent(out::add);
        }
        return out;
    }

    /** All nodes in id order. */
    public List<NodeRecord> listNodes() {
        List<NodeRecord> out = new ArrayList<>();
        try (RocksIterator it = db.newIterator(nodes)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(parse(it.value(), NodeRecord::parseFrom));
            }
        }
        return out;
    }

    /** A VM's files as FileChange entries, in path order. */
    public List<FileChange> fileList(String jobId) {
        List<FileChange> out = new ArrayList<>();
        files(jobId).forEach((path, data) -> out.add(FileChange.newBuilder().setPath(path).setData(data).build()));
        return out;
    }

    /** All DNS records in (type, name) order. */
    public List<DnsRecord> listDns() {
        List<DnsRecord> out = new ArrayList<>();
        try (RocksIterator it = db.newIterator(dns)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(parse(it.value(), DnsRecord::parseFrom));
            }
        }
        return out;
    }

    /** Every held address and its job, in address order. */
    public SortedMap<String, String> addressHolders() {
        SortedMap<String, String> out = new TreeMap<>();
        try (RocksIterator it = db.newIterator(ipam)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(Subnet.dotted(ByteBuffer.wrap(it.key()).getInt()), new String(it.value(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** Every held host port ("tcp/08080") and its job. */
    public SortedMap<String, String> portHolders() {
        SortedMap<String, String> out = new TreeMap<>();
        try (RocksIterator it = db.newIterator(ports)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(new String(it.key(), StandardCharsets.UTF_8), new String(it.value(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** The job ids that own at least one file. */
    public List<String> fileOwners() {
        List<String> out = new ArrayList<>();
        try (RocksIterator it = db.newIterator(files)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                int nul = 0;
                while (nul < key.length && key[nul] != 0) {
                    nul++;
                }
                String owner = new String(key, 0, nul, StandardCharsets.UTF_8);
                if (out.isEmpty() || !out.get(out.size() - 1).equals(owner)) {
                    out.add(owner);
                }
            }
        }
        return out;
    }

    /**
     * A SHA-256 over a sorted scan of every data family (not the applied index), read from one RocksDB
     * snapshot together with the applied index it belongs to. Equal logs give equal digests.
     */
    public StateDigest digest() {
        MessageDigest sha = sha256();
        Snapshot snapshot = db.getSnapshot();
        try (ReadOptions read = new ReadOptions().setSnapshot(snapshot)) {
            AppliedIndex at = readApplied(read);
            for (int i = 0; i < DATA_FAMILIES.size(); i++) {
                sha.update(bytes(DATA_FAMILIES.get(i)));
                try (RocksIterator it = db.newIterator(handles.get(i + 1), read)) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        byte[] k = it.key();
                        byte[] v = it.value();
                        sha.update(ByteBuffer.allocate(4).putInt(k.length).array());
                        sha.update(k);
                        sha.update(ByteBuffer.allocate(4).putInt(v.length).array());
                        sha.update(v);
                    }
                }
            }
            return new StateDigest(HexFormat.of().formatHex(sha.digest()), at.index(), at.term());
        } finally {
            db.releaseSnapshot(snapshot);
        }
    }

    /**
     * Writes a consistent copy of the store to {@code target} (which must not exist yet): SST files are
     * hard links, the rest copies. The memtables are flushed first so the copy needs no WAL replay.
     */
    public void checkpoint(Path target) throws IOException {
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true);
                Checkpoint checkpoint = Checkpoint.create(db)) {
            db.flush(flush, handles);
            checkpoint.createCheckpoint(target.toString());
        } catch (RocksDBException e) {
            throw new IOException("cannot checkpoint the registry store at " + dir + " into " + target + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        writeOptions.close();
        cfOptions.close();
        dbOptions.close();
    }

    // ------------------------------------------------------------------ encoding

    private AppliedIndex readApplied(ReadOptions read) {
        try {
            byte[] v = read == null ? db.get(meta, APPLIED_KEY) : db.get(meta, read, APPLIED_KEY);
            if (v == null) {
                return new AppliedIndex(0, -1, 0); // nothing applied: Ratis counts log indexes from 0
            }
            ByteBuffer b = ByteBuffer.wrap(v);
            return new AppliedIndex(b.getLong(), b.getLong(), b.remaining() >= 4 ? b.getInt() : 0);
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot read the applied index from " + dir + ": " + e.getMessage(), e);
        }
    }

    private Optional<byte[]> get(ColumnFamilyHandle family, byte[] key) {
        try {
            return Optional.ofNullable(db.get(family, key));
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot read the registry store at " + dir + ": " + e.getMessage(), e);
        }
    }

    private interface Parser<T> {
        T parse(byte[] bytes) throws InvalidProtocolBufferException;
    }

    private <T> T parse(byte[] bytes, Parser<T> parser) {
        try {
            return parser.parse(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the registry store at " + dir + " holds a record that does not parse ("
                    + e.getMessage() + "); the store is corrupt, restore this node from a peer's snapshot", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] addressKey(String ip) {
        int a = Subnet.parseAddress(ip).orElseThrow(() -> new IllegalArgumentException("not an IPv4 address: " + ip));
        return ByteBuffer.allocate(4).putInt(a).array();
    }

    private static byte[] dnsKey(String type, String name) {
        return bytes(type + "/" + name);
    }

    private static byte[] portKey(int port, String proto) {
        return bytes(proto + "/" + String.format("%05d", port));
    }

    private static byte[] fileKey(String jobId, String path) {
        byte[] id = bytes(jobId);
        byte[] p = bytes(path);
        byte[] key = Arrays.copyOf(id, id.length + 1 + p.length);
        System.arraycopy(p, 0, key, id.length + 1, p.length);
        return key;
    }

    private static byte[] requestKey(String requestId) {
        byte[] id = bytes(requestId);
        byte[] key = new byte[id.length + 1];
        key[0] = REQUEST_BY_ID;
        System.arraycopy(id, 0, key, 1, id.length);
        return key;
    }

    private static byte[] requestIndexKey(long index) {
        return ByteBuffer.allocate(9).put(REQUEST_BY_INDEX).putLong(index).array();
    }

    /** Several commands of one batch share an index, so the id follows it in the key. */
    private static byte[] requestIndexKey(long index, String requestId) {
        byte[] id = bytes(requestId);
        return ByteBuffer.allocate(9 + id.length).put(REQUEST_BY_INDEX).putLong(index).put(id).array();
    }

    private static byte[] encode(AppliedIndex at) {
        ByteBuffer b = ByteBuffer.allocate(at.nextParts() > 0 ? 20 : 16).putLong(at.term()).putLong(at.index());
        if (at.nextParts() > 0) b.putInt(at.nextParts());
        return b.array();
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * The term and index of the last log entry applied whole, and how many commands of the batch at the
     * next index are applied too (0 but after a crash part-way through a batch).
     */
    public record AppliedIndex(long term, long index, int nextParts) {
        public AppliedIndex(long term, long index) {
            this(term, index, 0);
        }
    }
}
