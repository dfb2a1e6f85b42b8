package dev.flotilla.node.sim;

import dev.flotilla.proto.FileChange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.flotilla.node.sim.SimTestSupport.logs;
import static dev.flotilla.node.sim.SimTestSupport.runtime;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FilesTest {

    /** Applies batches the way the replicated store would: last change per path wins. */
    private static Map<String, byte[]> apply(List<FsBatch> batches) {
        Map<String, byte[]> files = new TreeMap<>();
        for (FsBatch b : batches) {
            for (FileChange c : b.changes()) {
                if (c.getRemoved()) {
                    files.remove(c.getPath());
                } else {
                    files.put(c.getPath(), c.getData().toByteArray());
                }
            }
        }
        return files;
    }

    @Test
    void filesGoOutThroughTheHookAndComeBackWhenSeeded() {
        SimConfig cfg = SimTestSupport.config().withFsFlush(5, 4096, 8192);
        SimRuntime rt = runtime(cfg, "10.0.0.1");
        List<FsBatch> out = new ArrayList<>();
        rt.setFsSink(out::add);
        rt.addVm(vm("a", "10.0.0.1", """
                function on_tick(ctx)
                  ctx.n = (ctx.n or 0) + 1
                  if ctx.n == 1 then
                    assert(fs.mkdir("/data/logs"))
                    assert(fs.write("/data/counter", "1"))
                    assert(fs.write("/tmp.txt", "scratch"))
                  elseif ctx.n <= 10 then
                    assert(fs.write("/data/counter", tostring(ctx.n)))
                    assert(fs.append("/data/logs/run.log", "line" .. ctx.n .. "\\n"))
                  elseif ctx.n == 11 then
                    assert(fs.remove("/tmp.txt"))
                    log(table.concat(fs.list("/"), ","), table.concat(fs.list("/data"), ","), fs.exists("/tmp.txt"))
                    return exit(0)
                  end
                end
                """));
        rt.step(20);
        assertEquals("data/\tcounter,logs/\tfalse", logs(rt, "a").get(0));
        Map<String, byte[]> stored = apply(out);
        assertEquals("10", new String(stored.get("/data/counter"), StandardCharsets.UTF_8));
        assertEquals("line2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\n",
                new String(stored.get("/data/logs/run.log"), StandardCharsets.UTF_8));
        assertTrue(!stored.containsKey("/tmp.txt"), "a removed file is removed in the store too");
        SimStats st = rt.stats();
        assertTrue(st.fsCoalescedWrites() > 0, "repeated writes between flushes were coalesced: " + st);
        assertTrue(st.fsBatches() >= 2 && st.fsBatches() <= 4, "one batch per flush with changes: " + st);

        // The VM comes back elsewhere (a new runtime) seeded with what the store holds.
        SimRuntime again = runtime(cfg, "10.0.0.1");
        again.addVm(vm("a", "10.0.0.1", """
                function on_start()
                  log(fs.read("/data/counter"), #fs.read("/data/logs/run.log"), fs.exists("/data/logs"), fs.read("/tmp.txt"))
                  return wait_packet()
                end
                """).withFiles(stored));
        again.step(1);
        assertEquals(List.of("10\t55\ttrue\tnil"), logs(again, "a"));
        assertEquals(stored.values().stream().mapToLong(b -> b.length).sum()
                + stored.keySet().stream().mapToLong(String::length).sum()
                - "/data/".length() + "/data".length() - "/data/logs/".length() + "/data/logs".length(),
                status(again, "a").fsBytes());
    }

    @Test
    void quotaRefusesWritesPastIt() {
        SimRuntime rt = runtime(SimTestSupport.config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", """
                function on_start()
                  log(fs.write("/a", string.rep("x", 90)))
                  log(fs.write("/b", string.rep("x", 20)))
                  log(fs.write("/a", "small"), fs.write("/b", "fits now"))
                  log(fs.read("/nope"), fs.write("relative", "x"))
                  return wait_packet()
                end
                """).withQuota(100));
        rt.step(1);
        List<String> l = logs(rt, "a");
        assertEquals("true", l.get(0));
        assertEquals("nil\tquota exceeded: 114 bytes needed, quota 100", l.get(1));
        assertEquals("true\ttrue", l.get(2));
        assertTrue(status(rt, "a").processes().get(0).lastError().contains("must be absolute"), l.toString());
    }

    @Test
    void aChattyVmIsThrottledToTheFlushBudget() {
        SimConfig cfg = SimTestSupport.config().withFsFlush(1, 1024, 2048);
        SimRuntime rt = runtime(cfg, "10.0.0.1");
        List<FsBatch> out = new ArrayList<>();
        rt.setFsSink(out::add);
        rt.addVm(vm("chatty", "10.0.0.1", """
                function on_start()
                  for i = 1, 20 do assert(fs.write("/f" .. i, string.rep("x", 500))) end
                  return wait_packet()
                end
                """));
        rt.step(1);
        long firstFlush = out.stream().mapToLong(FsBatch::bytes).sum();
        assertTrue(firstFlush <= 2048, "one flush hands out at most the per-flush budget: " + firstFlush);
        assertTrue(out.stream().allMatch(b -> b.bytes() <= 1024), "each batch within its bound");
        assertTrue(rt.stats().fsThrottled() >= 1, "the rest waits and is counted as throttled");
        rt.step(20);
        assertEquals(20, apply(out).size(), "everything goes out eventually");
    }
}
