package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Kills a node, damages the tail of its newest Raft log segment (or of a snapshot file when it has no
 * segment) by truncating it or flipping bits, and restarts it. The node must then either refuse to
 * start with a clear error, or recover safely: the run's digest and linearizability checks judge the
 * latter. A node that refuses is put back by a membership change with empty storage, so the run can go
 * on; the refusal is kept in the fault's detail.
 */
public record Corruption() implements Fault {

    @Override
    public String kind() {
        return "corrupt";
    }

    @Override
    public Injected inject(ClusterUnderTest cluster, Random rnd) {
        String node = Fault.random(cluster.nodeIds(), rnd);
        cluster.kill(node);
        Path raft = cluster.dataDir(node).resolve("raft");
        Optional<Path> target = newest(raft, "log_").or(() -> newest(cluster.dataDir(node), "snapshot"));
        String damage = target.map(f -> damage(f, rnd)).orElse("no Raft log segment or snapshot under " + raft
                + ": restarted undamaged");
        return new Simple(node, damage, () -> {
            long t0 = System.nanoTime();
            cluster.restart(node);
            String how = Restart.waitServing(cluster, node, t0);
            if (how.startsWith("REFUSED")) {
                return how + "; then " + Membership.replace(cluster, node);
            }
            return how;
        });
    }

    private static Optional<Path> newest(Path root, String namePart) {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> files = walk.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().contains(namePart))
                    .filter(p -> size(p) > 0).toList();
            return files.stream().max(Comparator.comparingLong(Corruption::modified)
                    .thenComparing(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look for files to corrupt under " + root + ": " + e.getMessage(), e);
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Truncates the tail of the file's written data or flips bits in it; says exactly what was done.
     * Ratis preallocates segments (zero-filled), so "the tail" is the last non-zero byte, not the file's end.
     */
    static String damage(Path file, Random rnd) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long size = f.length();
            long written = lastNonZero(f) + 1;
            if (written <= 0) {
                return "nothing written yet in " + file + " (" + size + " zero bytes): left undamaged";
            }
            if (rnd.nextBoolean()) {
                long cut = 1 + rnd.nextInt((int) Math.min(written, 512));
                f.setLength(written - cut);
                return String.format(Locale.ROOT, "truncated %d bytes off the %d written (file was %d) of %s",
                        cut, written, size, file);
            }
            int flips = 1 + rnd.nextInt(3);
            long window = Math.min(written, 4096);
            StringBuilder where = new StringBuilder();
            for (int i = 0; i < flips; i++) {
                long pos = written - 1 - rnd.nextInt((int) window);
                int bit = rnd.nextInt(8);
                f.seek(pos);
                int b = f.read();
                f.seek(pos);
                f.write(b ^ (1 << bit));
                where.append(where.length() == 0 ? "" : ", ").append(pos).append('.').append(bit);
            }
            return String.format(Locale.ROOT, "flipped %d bit(s) (byte.bit %s) in the last %d written bytes of %s",
                    flips, where, window, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot corrupt " + file + ": " + e.getMessage(), e);
        }
    }

    /** The offset of the last non-zero byte, or -1 when the file holds only zeros. */
    static long lastNonZero(RandomAccessFile f) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long end = f.length();
        while (end > 0) {
            int n = (int) Math.min(buf.length, end);
            long start = end - n;
            f.seek(start);
            f.readFully(buf, 0, n);
            for (int i = n - 1; i >= 0; i--) {
                if (buf[i] != 0) {
                    return start + i;
                }
            }
            end = start;
        }
        return -1;
    }
}
