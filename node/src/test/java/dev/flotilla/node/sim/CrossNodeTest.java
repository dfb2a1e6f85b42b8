package dev.flotilla.node.sim;

import dev.flotilla.node.net.NetworkTable;
import dev.flotilla.node.net.PacketTransport;
import dev.flotilla.node.net.Router;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

import static dev.flotilla.node.sim.SimTestSupport.await;
import static dev.flotilla.node.sim.SimTestSupport.logs;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two runtimes, each with its own router and transport on loopback, ticking on their own. */
class CrossNodeTest {
    private static final NetworkTable TABLE = new NetworkTable(
            Map.of("10.0.1.1", "n1", "10.0.2.1", "n2"),
            Map.of("client.sim", "10.0.1.1", "server.sim", "10.0.2.1"),
            Map.of(), Map.of(), List.of());

    private record Node(SimRuntime runtime, PacketTransport transport) implements AutoCloseable {
        static Node start(String id) throws InterruptedException {
            Router router = new Router(id);
            router.updateTable(TABLE);
            SimRuntime rt = new SimRuntime(SimConfig.defaults().withShards(1), router);
            PacketTransport t = new PacketTransport(id, new InetSocketAddress("127.0.0.1", 0), rt::deliver, 100_000)
                    .start();
            rt.setPacketSink(t);
            return new Node(rt, t);
        }

        @Override
        public void close() {
            runtime.close();
            transport.close();
        }
    }

    @Test
    void twoVmsOnDifferentNodesExchangeAThousandRequestReplyPairsWithNoneLost() throws Exception {
        try (Node n1 = Node.start("n1"); Node n2 = Node.start("n2")) {
            n1.transport.setPeer("n2", new InetSocketAddress("127.0.0.1", n2.transport.port()));
            n2.transport.setPeer("n1", new InetSocketAddress("127.0.0.1", n1.transport.port()));
            // "While both nodes are up": the links are up before the first request is sent.
            await("n1 and n2 connect to each other", 15_000, () -> {
                n1.transport.flush(0);
                n2.transport.flush(0);
                return n1.transport.connected("n2") && n2.transport.connected("n1");
            });
            n2.runtime.addVm(vm("server", "10.0.2.1", """
                    return {
                      on_start = function() net.listen(80) return wait_packet() end,
                      on_packet = function(ctx, p) net.send(p.from, p.from_port, "re:" .. p.data) end,
                    }
                    """));
            n1.runtime.addVm(vm("client", "10.0.1.1", """
                    return {
                      on_start = function(ctx) ctx.next = 1 ctx.got = {} ctx.replies = 0 net.listen(9000) end,
                      on_tick = function(ctx)
                        -- A window of 100 requests in flight (below the 256-packet mailboxes), like any
                        -- protocol with flow control; then wait for the last replies.
                        while ctx.next - 1 - ctx.replies < 100 do
                          if ctx.next > 1000 then return wait_packet() end
                          net.send("server.sim", 80, tostring(ctx.next))
                          ctx.next = ctx.next + 1
                        end
                      end,
                      on_packet = function(ctx, p)
                        local id = tonumber(p.data:sub(4))
                        if p.data:sub(1, 3) == "re:" and not ctx.got[id] then
                          ctx.got[id] = true
                          ctx.replies = ctx.replies + 1
                        else
                          log("unexpected", p.data)
                        end
                        if ctx.replies == 1000 then log("all replies") end
                      end,
                    }
                    """));
            n1.runtime.start();
            n2.runtime.start();
            try {
                await("the client logs all 1000 replies", 60_000,
                        () -> logs(n1.runtime, "client").contains("all replies"));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; client " + status(n1.runtime, "client") + "; server "
                        + status(n2.runtime, "server") + "; transports " + n1.transport.stats() + " "
                        + n2.transport.stats(), e);
            }
            SimVmStatus client = status(n1.runtime, "client");
            SimVmStatus server = status(n2.runtime, "server");
            assertEquals(List.of("all replies"), logs(n1.runtime, "client"), "no duplicate or stray replies");
            assertEquals(1000, client.packetsOut());
            assertEquals(1000, client.packetsIn());
            assertEquals(1000, server.packetsIn());
            assertEquals(1000, server.packetsOut());
            assertTrue(client.drops().isEmpty() && server.drops().isEmpty(),
                    "no drops: " + client.drops() + " " + server.drops());
            assertEquals(1000, n1.transport.stats().sent());
            assertEquals(1000, n2.transport.stats().received());
        }
    }
}
