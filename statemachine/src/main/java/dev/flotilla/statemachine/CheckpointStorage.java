package dev.flotilla.statemachine;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Where the registry keeps its live RocksDB and its snapshots, under the Ratis state machine dir:
 *
 * <pre>
 *   sm/registry/                       the live store
 *   sm/snapshots/snapshot.TERM_INDEX/  one RocksDB checkpoint per snapshot, each file with a .md5 beside it
 * </pre>
 *
 * The snapshots live in their own directory because a follower that installs a snapshot from the
 * leader replaces the whole snapshot directory with what it received; the live store must not be in it.
 * File names are sent relative to that directory, so the follower ends up with the same layout.
 */
final class CheckpointStorage implements StateMachineStorage {
    static final String LIVE = "registry";
    static final String SNAPSHOTS = "snapshots";
    private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
    /** Kept when Ratis's retention policy says "keep all": checkpoints share SST files, but not forever. */
    static final int DEFAULT_RETAINED = 2;

    private volatile Path stateMachineDir;
    private volatile Path snapshotsDir;
    private volatile SnapshotInfo latest;

    @Override
    public void init(RaftStorage raftStorage) throws IOException {
        init(raftStorage.getStorageDir().getStateMachineDir().toPath());
    }

    void init(Path smDir) throws IOException {
        // Absolute: Ratis relativizes each snapshot file's (absolute) path against getSnapshotDir().
        stateMachineDir = smDir.toAbsolutePath().normalize();
        snapshotsDir = stateMachineDir.resolve(SNAPSHOTS);
        Files.createDirectories(snapshotsDir);
        refresh();
    }

    Path liveDir() {
        return stateMachineDir.resolve(LIVE);
    }

    Path snapshotsDir() {
        return snapshotsDir;
    }

    static String name(long term, long index) {
        return "snapshot." + term + "_" + index;
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        return latest;
    }

    @Override
    public File getSnapshotDir() {
        return snapshotsDir == null ? null : snapshotsDir.toFile();
    }

    @Override
    public void format() {
        // Ratis formats a fresh group directory; there is nothing of ours in it yet.
    }

    /** Re-reads the snapshot directory; called after taking a snapshot and after one was installed. */
    void refresh() throws IOException {
        Optional<Path> newest = snapshots().stream().max(Comparator.comparing(CheckpointStorage::termIndexOf));
        latest = newest.isEmpty() ? null : describe(newest.get());
    }

    private List<Path> snapshots() throws IOException {
        if (!Files.isDirectory(snapshotsDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(snapshotsDir)) {
            return s.filter(p -> Files.isDirectory(p) && NAME.matcher(p.getFileName().toString()).matches()).toList();
        }
    }

    static TermIndex termIndexOf(Path snapshot) {
        Matcher m = NAME.matcher(snapshot.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a snapshot directory: " + snapshot);
        }
        return TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
    }

    private static SnapshotInfo describe(Path snapshot) throws IOException {
        List<FileInfo> files = new ArrayList<>();
        for (Path f : dataFiles(snapshot)) {
            File md5 = MD5FileUtil.getDigestFileForFile(f.toFile());
            MD5Hash digest = md5.exists() ? MD5FileUtil.readStoredMd5ForFile(f.toFile()) : null;
            files.add(new FileInfo(f.toAbsolutePath(), digest));
        }
        return new FileListSnapshotInfo(files, termIndexOf(snapshot));
    }

    /** The checkpoint's own files, in name order, without the .md5 companions. */
    static List<Path> dataFiles(Path snapshot) throws IOException {
        try (Stream<Path> s = Files.list(snapshot)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().endsWith(MD5FileUtil.MD5_SUFFIX))
                    .sorted()
                    .toList();
        }
    }

    /** The directory holding the newest snapshot, if any. */
    Optional<Path> latestDir() {
        SnapshotInfo s = latest;
        return s == null ? Optional.empty() : Optional.of(snapshotsDir.resolve(name(s.getTerm(), s.getIndex())));
    }

    /**
     * Publishes a finished checkpoint: an MD5 file beside every file, everything fsynced, then one atomic
     * rename, so a snapshot directory with a final name is always complete and durable.
     */
    void publish(Path checkpoint, long term, long index) throws IOException {
        for (Path f : dataFiles(checkpoint)) {
            MD5FileUtil.saveMD5File(f.toFile(), MD5FileUtil.computeMd5ForFile(f.toFile()));
        }
        try (Stream<Path> s = Files.list(checkpoint)) {
            for (Path f : s.toList()) {
                fsync(f);
            }
        }
        fsync(checkpoint);
        Path target = snapshotsDir.resolve(name(term, index));
        Files.move(checkpoint, target, StandardCopyOption.ATOMIC_MOVE);
        fsync(snapshotsDir);
        refresh();
    }

    /**
     * Makes the live store a copy of a snapshot: files are verified against their MD5, copied beside the
     * live directory, and swapped in by rename.
     */
    void restoreInto(Path snapshot, Path live) throws IOException {
        Path staging = live.resolveSibling(live.getFileName() + ".restoring");
        deleteTree(staging);
        Files.createDirectories(staging);
        for (Path f : dataFiles(snapshot)) {
            File md5 = MD5FileUtil.getDigestFileForFile(f.toFile());
            if (md5.exists()) {
                MD5FileUtil.verifySavedMD5(f.toFile(), MD5FileUtil.computeMd5ForFile(f.toFile()));
            }
            Path copy = staging.resolve(f.getFileName());
            Files.copy(f, copy);
            fsync(copy);
        }
        fsync(staging);
        deleteTree(live);
        Files.move(staging, live, StandardCopyOption.ATOMIC_MOVE);
        fsync(live.getParent());
    }

    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        int keep = policy == null || policy.getNumSnapshotsRetained() <= 0 ? DEFAULT_RETAINED
                : policy.getNumSnapshotsRetained();
        List<Path> all = new ArrayList<>(snapshots());
        all.sort(Comparator.comparing(CheckpointStorage::termIndexOf).reversed());
        for (Path old : all.subList(Math.min(keep, all.size()), all.size())) {
            deleteTree(old);
        }
        // Leftovers of a checkpoint interrupted before publish.
        try (Stream<Path> s = Files.list(snapshotsDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
                deleteTree(p);
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static void fsync(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                ch.force(true);
            }
        } else {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
    }
}
