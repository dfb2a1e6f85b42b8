package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Keeps warm pools at their size: for every spec hash that some VM declares a {@code warm_pool}
 * for, at least {@code min} unclaimed warm VMs created and started, never more than {@code max};
 * and picks which warm VM a new request with the same spec hash claims.
 * Pure: it reads records (with their {@code spec_hash} already computed) and returns actions.
 */
public final class WarmPoolPlan {

    private WarmPoolPlan() {}

    /** What the controller should commit to bring the pools to size. */
    public sealed interface Action {
        /** Create (and start) one more warm VM of this spec. */
        record CreateWarm(String specHash, VmSpec spec) implements Action {}

        /** Delete this unclaimed warm VM: it is surplus, broken, or its pool is no longer declared. */
        record RetireWarm(String vmId, String specHash, String reason) implements Action {}
    }

    /** One pool's target size and the spec its warm VMs are made from. */
    public record Pool(String specHash, int min, int max, VmSpec template) {}

    /**
     * The actions that bring every pool to size: retirements of broken, orphaned and surplus warm
     * VMs, then creations, each group in spec-hash order so every leader plans alike.
     */
    public static List<Action> plan(List<VmRecord> vms) {
        Map<String, Pool> pools = pools(vms);
        Map<String, List<VmRecord>> warmByHash = new TreeMap<>();
        for (VmRecord vm : vms) {
            if (vm.getWarm()) {
                warmByHash.computeIfAbsent(vm.getSpecHash(), h -> new ArrayList<>()).add(vm);
            }
        }
        List<Action> retire = new ArrayList<>();
        List<Action> create = new ArrayList<>();
        for (Map.Entry<String, List<VmRecord>> e : warmByHash.entrySet()) {
            Pool pool = pools.get(e.getKey());
            List<VmRecord> live = new ArrayList<>();
            for (VmRecord vm : sortedOldestFirst(e.getValue())) {
                if (pool == null) {
                    retire.add(new Action.RetireWarm(vm.getId(), e.getKey(),
                            "no VM declares a warm pool for spec hash " + e.getKey() + " any more"));
                } else if (broken(vm)) {
                    retire.add(new Action.RetireWarm(vm.getId(), e.getKey(), "warm VM is "
                            + vm.getObserved().name().toLowerCase() + ": " + vm.getObservedReason()));
                } else if (vm.getDesired() != DesiredState.DESIRED_STOPPED) {
                    live.add(vm);
                }
            }
            if (pool != null && live.size() > pool.max()) {
                // Shed the ones not yet running first, then the youngest: the oldest running ones are
                // the ones a claim would take, and they cost nothing more to keep.
                List<VmRecord> shedOrder = new ArrayList<>(live);
                shedOrder.sort(Comparator.comparing((VmRecord vm) -> vm.getObserved() == ObservedState.RUNNING)
                        .thenComparing(Comparator.comparingLong(VmRecord::getCreatedMs).reversed())
                        .thenComparing(Comparator.comparing(VmRecord::getId).reversed()));
                for (VmRecord vm : shedOrder.subList(0, live.size() - pool.max())) {
                    retire.add(new Action.RetireWarm(vm.getId(), e.getKey(), "pool holds " + live.size()
                            + " warm VMs, more than its max of " + pool.max()));
                }
            }
        }
        for (Pool pool : pools.values()) {
            long live = warmByHash.getOrDefault(pool.specHash(), List.of()).stream()
                    .filter(vm -> !broken(vm) && vm.getDesired() != DesiredState.DESIRED_STOPPED)
                    .count();
            for (long i = live; i < pool.min(); i++) {
                create.add(new Action.CreateWarm(pool.specHash(), pool.template()));
            }
        }
        List<Action> all = new ArrayList<>(retire);
        all.addAll(create);
        return List.copyOf(all);
    }

    /**
     * The warm VM a new request with {@code specHash} should claim: a running, unclaimed one, the
     * oldest first (ties by id). Empty when none is ready, and the request is created cold.
     */
    public static Optional<VmRecord> claim(String specHash, List<VmRecord> vms) {
        return sortedOldestFirst(vms).stream()
                .filter(vm -> vm.getWarm() && vm.getSpecHash().equals(specHash) && !specHash.isEmpty())
                .filter(vm -> vm.getObserved() == ObservedState.RUNNING && vm.getDesired() != DesiredState.DESIRED_STOPPED)
                .findFirst();
    }

    /**
     * The pools the records declare, by spec hash. When several VMs with one hash declare different
     * sizes, the largest min and the largest max win, so no declaration is left short; the template is
     * the spec of the declaring VM with the smallest job id.
     */
    public static Map<String, Pool> pools(List<VmRecord> vms) {
        Map<String, Pool> pools = new TreeMap<>();
        for (VmRecord vm : sortedById(vms)) {
            if (vm.getWarm() || vm.getSpecHash().isEmpty() || !vm.getSpec().hasWarmPool()) {
                continue;
            }
            int min = vm.getSpec().getWarmPool().getMin();
            int max = Math.max(min, vm.getSpec().getWarmPool().getMax());
            if (max == 0) {
                continue;
            }
            pools.merge(vm.getSpecHash(), new Pool(vm.getSpecHash(), min, max, vm.getSpec()),
                    (a, b) -> new Pool(a.specHash(), Math.max(a.min(), b.min()), Math.max(a.max(), b.max()), a.template()));
        }
        return pools;
    }

    private static boolean broken(VmRecord vm) {
        return vm.getObserved() == ObservedState.FAILED || vm.getObserved() == ObservedState.EXITED;
    }

    private static List<VmRecord> sortedById(List<VmRecord> vms) {
        List<VmRecord> sorted = new ArrayList<>(vms);
        sorted.sort(Comparator.comparing(VmRecord::getId));
        return sorted;
    }

    private static List<VmRecord> sortedOldestFirst(List<VmRecord> vms) {
        List<VmRecord> sorted = new ArrayList<>(vms);
        sorted.sort(Comparator.comparingLong(VmRecord::getCreatedMs).thenComparing(VmRecord::getId));
        return sorted;
    }
}
