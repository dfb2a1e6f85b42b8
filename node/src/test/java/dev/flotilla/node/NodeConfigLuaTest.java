package dev.flotilla.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.sim.SimConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lua section of a node's config file: its memory limits, and bad values named by key. */
class NodeConfigLuaTest {
    @TempDir
    Path dir;

    @Test
    void memoryLimitsDefaultToTheRuntimesAndCanBeSet() throws Exception {
        NodeConfig d = ConfigFiles.load(dir, "node_id: n1\n");
        assertEquals(SimConfig.defaults().heapQuotaBytes(), d.lua.heapQuotaBytes);
        assertEquals(SimConfig.defaults().maxCallAllocBytes(), d.lua.maxCallAllocBytes);
        NodeConfig c = ConfigFiles.load(dir, """
                lua:
                  heap_quota_bytes: 1048576
                  max_call_alloc_bytes: 33554432
                """);
        assertEquals(1 << 20, c.lua.heapQuotaBytes);
        assertEquals(32 << 20, c.lua.maxCallAllocBytes);
    }

    @Test
    void aLimitTooSmallIsRefusedByItsKey() {
        NodeConfig.ConfigException e = assertThrows(NodeConfig.ConfigException.class, () -> ConfigFiles.load(dir, "lua:\n  heap_quota_bytes: 100\n"));
        assertTrue(e.getMessage().startsWith("lua.heap_quota_bytes 100 is out of range"), e.getMessage());
        e = assertThrows(NodeConfig.ConfigException.class, () -> ConfigFiles.load(dir, "lua:\n  max_call_alloc_bytes: 5\n"));
        assertTrue(e.getMessage().startsWith("lua.max_call_alloc_bytes 5 is too small"), e.getMessage());
    }
}
