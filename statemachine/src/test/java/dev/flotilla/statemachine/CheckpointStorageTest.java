package dev.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStorageTest {
    @TempDir Path tmp;

    private long snapshot(RegistryStore store, CheckpointStorage shelf, String job) throws IOException {
        long index = Math.max(1, store.applied().index() + 1);
        store.apply(1, index, Commands.upsert(job, Commands.process()));
        Path checkpoint = shelf.snapshotsDir().resolve("cp-" + index + ".tmp");
        store.checkpoint(checkpoint);
        shelf.publish(checkpoint, 1, index);
        return index;
    }

    @Test
    void publishedSnapshotsAreListedWithDigestsRestoredAndRetained() throws IOException {
        CheckpointStorage shelf = new CheckpointStorage();
        shelf.init(tmp.resolve("sm"));
        assertEquals(null, shelf.getLatestSnapshot(), "a fresh directory has no snapshot");
        try (RegistryStore store = RegistryStore.open(tmp.resolve("live"), Subnet.parse("10.0.0.0/24"), false)) {
            snapshot(store, shelf, "a");
            snapshot(store, shelf, "b");
            long last = snapshot(store, shelf, "c");
            SnapshotInfo latest = shelf.getLatestSnapshot();
            assertNotNull(latest);
            assertEquals(last, latest.getIndex());
            assertFalse(latest.getFiles().isEmpty());
            for (FileInfo f : latest.getFiles()) {
                assertTrue(f.getPath().isAbsolute() && f.getPath().startsWith(shelf.snapshotsDir()), f::toString);
                assertNotNull(f.getFileDigest(), () -> "every file carries its MD5 for the install: " + f);
                assertFalse(f.getPath().toString().endsWith(".md5"));
            }

            Files.createDirectories(shelf.snapshotsDir().resolve("snapshot.1_99.tmp"));
            shelf.cleanupOldSnapshots(new SnapshotRetentionPolicy() {});
            try (var dirs = Files.list(shelf.snapshotsDir())) {
                List<String> names = dirs.map(p -> p.getFileName().toString()).sorted().toList();
                assertEquals(List.of("snapshot.1_2", "snapshot.1_3"), names, "the newest two are kept, leftovers go");
            }

            Path restored = tmp.resolve("restored");
            shelf.restoreInto(shelf.latestDir().orElseThrow(), restored);
            try (RegistryStore copy = RegistryStore.open(restored, Subnet.parse("10.0.0.0/24"), false)) {
                assertEquals(store.digest(), copy.digest());
            }
        }
    }

    @Test
    void aCorruptSnapshotFileIsRefused() throws IOException {
        CheckpointStorage shelf = new CheckpointStorage();
        shelf.init(tmp.resolve("sm"));
        try (RegistryStore store = RegistryStore.open(tmp.resolve("live"), Subnet.parse("10.0.0.0/24"), false)) {
            snapshot(store, shelf, "a");
        }
        Path dir = shelf.latestDir().orElseThrow();
        Path victim = CheckpointStorage.dataFiles(dir).stream()
                .filter(p -> p.getFileName().toString().startsWith("MANIFEST")).findFirst().orElseThrow();
        Files.write(victim, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        Path live = tmp.resolve("restored");
        IOException e = assertThrows(IOException.class, () -> shelf.restoreInto(dir, live));
        assertTrue(e.getMessage().contains(victim.getFileName().toString()), e::getMessage);
        assertFalse(Files.exists(live), "a refused snapshot leaves no half-restored store");
    }
}
