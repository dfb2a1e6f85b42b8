package dev.flotilla.node.sim;

import static dev.flotilla.node.sim.SimTestSupport.config;
import static dev.flotilla.node.sim.SimTestSupport.runtime;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Numbered log pages for `vm logs --follow`, and one status round for every VM. */
class LogPagesTest {

    private static SimRuntime.LogPage page(SimRuntime rt, String id, long after) throws Exception {
        return rt.logsSince(id, after).get(10, TimeUnit.SECONDS).orElseThrow();
    }

    @Test
    void linesAreNumberedSoAReaderGetsOnlyWhatIsNewEvenPastTheKeptWindow() throws Exception {
        SimRuntime rt = runtime(config(), "10.0.0.2");
        rt.addVm(vm("v", "10.0.0.2", """
                return { on_tick = function(ctx) ctx.n = (ctx.n or 0) + 1 log("line " .. ctx.n) end }
                """));
        rt.step(3);
        SimRuntime.LogPage first = page(rt, "v", 0);
        assertEquals(List.of("line 1", "line 2", "line 3"), first.lines());
        assertEquals(3, first.next());
        rt.step(2);
        assertEquals(List.of("line 4", "line 5"), page(rt, "v", first.next()).lines());
        rt.step(300); // 305 lines logged, the last 200 kept
        SimRuntime.LogPage late = page(rt, "v", 5);
        assertEquals(200, late.lines().size(), "older lines are gone; the kept ones are all newer than 5");
        assertEquals("line 106", late.lines().get(0));
        assertEquals(List.of("line 305"), page(rt, "v", 304).lines());
        assertEquals(List.of(), page(rt, "v", 305).lines());
    }

    @Test
    void oneStatusRoundAnswersForEveryVm() throws Exception {
        SimRuntime rt = runtime(config(), "10.0.0.2", "10.0.0.3");
        rt.addVm(vm("a", "10.0.0.2", "return { on_start = function() return wait_packet() end }"));
        rt.addVm(vm("b", "10.0.0.3", "return { on_start = function() error('nope') end }"));
        rt.step(1);
        Map<String, SimVmStatus> all = rt.statusAll().get(10, TimeUnit.SECONDS);
        assertEquals(List.of("a", "b"), List.copyOf(all.keySet()));
        assertEquals("waiting", all.get("a").processes().get(0).state());
        assertEquals("failed", all.get("b").processes().get(0).state());
    }
}
