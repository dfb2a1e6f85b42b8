package dev.flotilla.node.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.flotilla.node.sim.SimTestSupport.config;
import static dev.flotilla.node.sim.SimTestSupport.runtime;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A VM cannot take the node's heap: what its Lua data holds is measured against a quota, and what one
 * handler call allocates is watched against a limit. Either way the offender stops, the others go on.
 */
class MemoryLimitsTest {
    private static final long QUOTA = 1 << 20;
    private static final String GOOD = "function on_tick(ctx) ctx.n = (ctx.n or 0) + 1 end";

    private static SimRuntime runtimeWithQuota() {
        return runtime(config().withHeapLimits(QUOTA, 64L << 20), "10.0.0.1", "10.0.0.2");
    }

    /** Steps until the VM stops, at most {@code maxTicks}; returns its status. */
    private static SimVmStatus stepUntilStopped(SimRuntime rt, String id, int maxTicks) {
        for (int i = 0; i < maxTicks; i++) {
            rt.step();
            SimVmStatus s = status(rt, id);
            if (s.state().equals("stopped")) {
                return s;
            }
        }
        return status(rt, id);
    }

    @ParameterizedTest(name = "kept in {0}, compiled {1}")
    @CsvSource({"ctx, true", "a global, true", "an upvalue, true", "a metatable, true", "ctx, false", "an upvalue, false"})
    void aVmThatKeepsWhatItBuildsIsStoppedAtItsHeapQuota(String where, boolean compiled) {
        SimRuntime rt = runtime(config().withHeapLimits(QUOTA, 64L << 20).withCompileToJvm(compiled), "10.0.0.1", "10.0.0.2");
        String keep = switch (where) {
            case "ctx" -> "ctx.t = ctx.t or {} local t = ctx.t";
            case "a global" -> "kept = kept or {} local t = kept";
            case "an upvalue" -> "local t = kept";
            default -> "local t = getmetatable(holder).t";
        };
        // About 60 KiB more every tick: over 1 MiB after some 17 ticks.
        rt.addVm(vm("hoarder", "10.0.0.1", """
                local kept = {}
                holder = setmetatable({}, {t = {}})
                function on_tick(ctx)
                  %s
                  for i = 1, 1000 do t[#t + 1] = "item " .. #t end
                end
                """.formatted(keep)));
        rt.addVm(vm("good", "10.0.0.2", GOOD));
        // Usually the first sampled call (one in 32) after it passes the quota has it measured; the round
        // over all VMs makes sure within HEAP_CHECK_EVERY_TICKS whatever the sampling picked.
        int deadline = Shard.HEAP_CHECK_EVERY_TICKS + 50;
        SimVmStatus hoarder = stepUntilStopped(rt, "hoarder", deadline);
        assertEquals("stopped", hoarder.state(), "the hoarder must be stopped within " + deadline + " ticks: " + hoarder);
        assertTrue(hoarder.stopReason().contains("memory quota exceeded") && hoarder.stopReason().contains("lua.heap_quota_bytes"),
                hoarder.stopReason());
        assertTrue(hoarder.ticksRun() >= 10, "stopped only once it held about a MiB, not at once: " + hoarder.ticksRun());
        assertEquals("killed", hoarder.processes().get(0).state());
        assertTrue(hoarder.processes().get(0).lastError().contains("memory quota exceeded"));
        assertTrue(rt.stats().heapQuotaStops() >= 1);

        // The other VM ticks on; allocating next to nothing, it is measured by the periodic check.
        long ticks = hoarder.ticksRun();
        SimVmStatus good;
        int i = 0;
        do {
            rt.step();
            good = status(rt, "good");
        } while (good.heapBytes() == 0 && ++i < Shard.HEAP_CHECK_EVERY_TICKS + 10);
        assertEquals("running", good.state());
        assertTrue(good.ticksRun() > ticks, "the other VM ticked on: " + good.ticksRun());
        assertTrue(good.heapBytes() > 0 && good.heapBytes() < 16 * 1024, "a trivial VM holds a few hundred bytes: " + good.heapBytes());
    }

    @Test
    void oneStringKeptInManyPlacesIsCountedOnce() {
        SimRuntime rt = runtimeWithQuota();
        // 512 KiB once, then 2,000 references to it and to substrings sharing its bytes (LuaJ shares
        // them for a substring of at least half the string): well under the 1 MiB quota, though
        // counting each reference as a copy would make it half a gigabyte.
        rt.addVm(vm("sharer", "10.0.0.1", """
                function on_tick(ctx)
                  if not ctx.t then
                    local s = string.rep("x", 512 * 1024)
                    ctx.t = {}
                    for i = 1, 1000 do ctx.t[i] = s end
                    for i = 1001, 2000 do ctx.t[i] = s:sub(1, 300000) end
                  end
                end
                """));
        SimVmStatus s = status(rt, "sharer");
        for (int i = 0; i < Shard.HEAP_CHECK_EVERY_TICKS + 10 && s.heapBytes() == 0; i++) {
            rt.step();
            s = status(rt, "sharer");
        }
        assertEquals("running", s.state(), s.stopReason());
        assertTrue(s.heapBytes() > 512 * 1024 && s.heapBytes() < QUOTA, "measured " + s.heapBytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // each instruction builds a table of a million values (8 MB), kept
            "local s = string.rep('x', 1000000) local t = {} for i = 1, 2000 do t[i] = {s:byte(1, -1)} end",
            // each instruction makes a new megabyte string, kept
            "local s = string.rep('x', 1000000) local t = {} for i = 1, 20000 do t[i] = s:upper() end",
            // the same, thrown away at once: garbage counts too
            "local s = string.rep('x', 1000000) for i = 1, 40000 do local u = s:lower() end",
    })
    void aCallThatAllocatesWithoutEndIsStopped(String body) {
        SimRuntime rt = runtime(config().withHeapLimits(64L << 20, 64L << 20).withInstructionBudget(1_000_000),
                "10.0.0.1", "10.0.0.2");
        rt.addVm(vm("bad", "10.0.0.1", "function on_tick(ctx)\n" + body + "\nend"));
        rt.addVm(vm("good", "10.0.0.2", GOOD));
        rt.step(3);
        SimVmStatus bad = status(rt, "bad");
        assertEquals("stopped", bad.state(), body);
        assertTrue(bad.stopReason().contains("allocation limit exceeded"), bad.stopReason());
        assertEquals(1, bad.ticksRun());
        assertTrue(rt.stats().callAllocStops() >= 1);
        SimVmStatus good = status(rt, "good");
        assertEquals("running", good.state());
        assertEquals(3, good.ticksRun());
    }

    @Test
    void modestAllocationInACallIsLeftAlone() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("ok", "10.0.0.1", """
                function on_tick(ctx)
                  local s = string.rep('x', 100000)
                  for i = 1, 20 do local u = s:upper() end
                  ctx.n = (ctx.n or 0) + 1
                end
                """));
        rt.step(10);
        SimVmStatus s = status(rt, "ok");
        assertEquals("running", s.state(), s.stopReason());
        assertEquals(10, s.ticksRun());
    }
}
