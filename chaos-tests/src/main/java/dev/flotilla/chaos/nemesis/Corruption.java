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

    /** Truncates the file's tail or flips bits in it; says exactly what was done. */
    static String damage(Path file, Random rnd) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long size = f.length();
            if (rnd.nextBoolean()) {
                long cut = 1 + rnd.nextInt((int) Math.min(size, 512));
                f.setLength(size - cut);
                return String.format(Locale.ROOT, "truncated %d of %d bytes off the tail of %s", cut, size, file);
            }
            int flips = 1 + rnd.nextInt(3);
            long window = Math.min(size, 4096);
            StringBuilder where = new StringBuilder();
            for (int i = 0; i < flips; i++) {
                long pos = size - 1 - rnd.nextInt((int) window);
                int bit = rnd.nextInt(8);
                f.seek(pos);
                int b = f.read();
                f.seek(pos);
                f.write(b ^ (1 << bit));
                where.append(where.length() == 0 ? "" : ", ").append(pos).append('.').append(bit);
            }
            return String.format(Locale.ROOT, "flipped %d bit(s) (byte.bit %s) in the last %d bytes of %s", flips,
                    where, window, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot corrupt " + file + ": " + e.getMessage(), e);
        }
    }
}
