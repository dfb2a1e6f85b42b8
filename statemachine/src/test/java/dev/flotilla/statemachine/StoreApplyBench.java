package dev.flotilla.statemachine;

import dev.flotilla.proto.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Measures how fast one store applies upserts, with and without fsync per batch. Not a test: run it by
 * hand (see the statemachine notes in the report); it asserts nothing about time.
 */
public final class StoreApplyBench {
    private StoreApplyBench() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        for (boolean sync : new boolean[] {false, true}) {
            Path dir = Files.createTempDirectory("flotilla-bench");
            try (RegistryStore store = RegistryStore.open(dir, Subnet.parse("10.0.0.0/16"), sync)) {
                long[] nanos = new long[n];
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    Command c = Commands.withRequestId(Commands.upsert("vm-" + i, Commands.process()), "req-" + i);
                    long t = System.nanoTime();
                    store.apply(1, i + 1, c);
                    nanos[i] = System.nanoTime() - t;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Arrays.sort(nanos);
                long digestStart = System.nanoTime();
                store.digest();
                System.out.printf("sync=%s: %d applies in %.2f s = %.0f/s, p50 %.3f ms, p99 %.3f ms, p999 %.3f ms;"
                                + " digest of %d VMs %.1f ms%n", sync, n, seconds, n / seconds, nanos[n / 2] / 1e6,
                        nanos[(int) (n * 0.99)] / 1e6, nanos[(int) (n * 0.999)] / 1e6, n, (System.nanoTime() - digestStart) / 1e6);
            } finally {
                CheckpointStorage.deleteTree(dir);
            }
        }
    }
}
