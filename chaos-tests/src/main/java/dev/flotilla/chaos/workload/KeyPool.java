package dev.flotilla.chaos.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The register keys clients work on: a few live at a time so ops on each key overlap, and each key is
 * retired after a fixed number of ops, as in Jepsen's independent keys, so every per-key history stays
 * small enough for the linearizability search.
 */
final class KeyPool {
    private final String prefix;
    private final int opsPerKey;
    private final List<String> live = new ArrayList<>();
    private final List<Integer> used = new ArrayList<>();
    private final List<String> all = new ArrayList<>();
    private int next;

    KeyPool(String prefix, int liveKeys, int opsPerKey) {
        this.prefix = prefix;
        this.opsPerKey = opsPerKey;
        for (int i = 0; i < liveKeys; i++) {
            live.add(fresh());
            used.add(0);
        }
    }

    private String fresh() {
        String k = prefix + (next++);
        all.add(k);
        return k;
    }

    /** A live key for one more op; the key is retired once it has had its share. */
    synchronized String pick(Random rnd) {
        int slot = rnd.nextInt(live.size());
        String key = live.get(slot);
        int n = used.get(slot) + 1;
        if (n >= opsPerKey) {
            live.set(slot, fresh());
            used.set(slot, 0);
        } else {
            used.set(slot, n);
        }
        return key;
    }

    /** Every key ever handed out, for the final reads. */
    synchronized List<String> allKeys() {
        return List.copyOf(all);
    }
}
