package dev.flotilla.node.sim;

import dev.flotilla.node.net.NetworkTable;
import dev.flotilla.node.net.Router;
import dev.flotilla.proto.FirewallRule;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.flotilla.node.sim.SimTestSupport.config;
import static dev.flotilla.node.sim.SimTestSupport.logs;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PacketsTest {

    private static SimRuntime named() {
        Router router = new Router("n1");
        router.updateTable(new NetworkTable(
                Map.of("10.0.0.1", "n1", "10.0.0.2", "n1", "10.0.0.3", "n1"),
                Map.of("client.sim", "10.0.0.1", "server.sim", "10.0.0.2", "other.sim", "10.0.0.3"),
                Map.of("www.sim", "server.sim", "alias.sim", "www.sim"),
                Map.of("10.0.0.2", "server.sim"),
                List.of()));
        return new SimRuntime(config(), router);
    }

    private static final String SERVER = """
            return {
              on_start = function() net.listen(80) return wait_packet() end,
              on_packet = function(ctx, p)
                log("got", p.data, "from", p.from, p.from_port, "at", os.time())
                net.send(p.from, p.from_port, "re:" .. p.data)
              end,
            }
            """;

    @Test
    void requestAndReplyByNameAreDeliveredNoEarlierThanTheNextTick() {
        SimRuntime rt = named();
        rt.addVm(vm("client", "10.0.0.1", """
                return {
                  on_start = function(ctx)
                    net.listen(9000)
                    log("sent at", os.time(), net.send("alias.sim", 80, "hello"))
                    return wait_packet()
                  end,
                  on_packet = function(ctx, p) log("reply", p.data, p.from, "at", os.time()) end,
                }
                """));
        rt.addVm(vm("server", "10.0.0.2", SERVER));
        rt.step(5);
        assertEquals(List.of("sent at\t1\ttrue", "reply\tre:hello\t10.0.0.2\tat\t3"), logs(rt, "client"));
        assertEquals(List.of("got\thello\tfrom\t10.0.0.1\t9000\tat\t2"), logs(rt, "server"));
        SimVmStatus c = status(rt, "client");
        assertEquals(1, c.packetsOut());
        assertEquals(1, c.packetsIn());
    }

    @Test
    void resolveFollowsCnamesAndAnswersPtr() {
        SimRuntime rt = named();
        rt.addVm(vm("client", "10.0.0.1", """
                function on_start()
                  log(net.resolve("alias.sim"), net.resolve("WWW.SIM."), net.resolve("10.0.0.2"),
                      net.resolve("nowhere.sim"), net.resolve("10.9.9.9"))
                  log(net.send("nowhere.sim", 1, "x"))
                  return wait_packet()
                end
                """));
        rt.step(2);
        assertEquals(List.of("10.0.0.2\t10.0.0.2\tserver.sim\tnil\tnil", "nil\tcannot resolve 'nowhere.sim'"),
                logs(rt, "client"));
        assertEquals(1L, status(rt, "client").drops().get("NO_ROUTE"));
    }

    @Test
    void orderIsKeptPerSourceAndDestination() {
        SimRuntime rt = named();
        rt.addVm(vm("client", "10.0.0.1", """
                function on_tick(ctx)
                  ctx.n = (ctx.n or 0)
                  for i = 1, 20 do ctx.n = ctx.n + 1 net.send("server.sim", 80, tostring(ctx.n), 9000) end
                  if ctx.n >= 100 then return exit(0) end
                end
                """));
        rt.addVm(vm("server", "10.0.0.2", """
                return {
                  on_start = function(ctx) ctx.seen = {} net.listen(80) return wait_packet() end,
                  on_packet = function(ctx, p) ctx.seen[#ctx.seen + 1] = p.data
                    if #ctx.seen == 100 then log(table.concat(ctx.seen, ",")) end end,
                }
                """));
        rt.step(10);
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            expected.add(String.valueOf(i));
        }
        assertEquals(List.of(String.join(",", expected)), logs(rt, "server"));
    }

    @Test
    void firewallDropsAreCountedAndAllowedTrafficPasses() {
        SimRuntime rt = named();
        rt.addVm(vm("client", "10.0.0.1", """
                function on_start() net.send("server.sim", 80, "from-client") net.send("server.sim", 22, "ssh") return wait_packet() end
                """));
        rt.addVm(vm("other", "10.0.0.3", """
                function on_start() net.send("server.sim", 80, "from-other") return wait_packet() end
                """));
        rt.addVm(vm("server", "10.0.0.2", """
                return {
                  on_start = function() net.listen(80) net.listen(22) return wait_packet() end,
                  on_packet = function(ctx, p) log(p.data) end,
                }
                """).withFirewall(List.of(
                FirewallRule.newBuilder().setAction("allow").setFrom("client.sim").setPort(80).setProto("udp").build(),
                FirewallRule.newBuilder().setAction("deny").setFrom("*").build())));
        rt.step(3);
        assertEquals(List.of("from-client"), logs(rt, "server"));
        assertEquals(1L, status(rt, "client").drops().get("FIREWALL"));
        assertEquals(1L, status(rt, "other").drops().get("FIREWALL"));
        assertEquals(2L, rt.stats().drops().get("FIREWALL"));
    }

    @Test
    void aPacketToAPortNobodyListensOnIsCountedAsNoListener() {
        SimRuntime rt = named();
        rt.addVm(vm("client", "10.0.0.1", "function on_start() net.send('10.0.0.2', 81, 'x') return wait_packet() end"));
        rt.addVm(vm("server", "10.0.0.2", SERVER));
        rt.step(3);
        assertEquals(1L, status(rt, "server").drops().get("NO_LISTENER"));
    }
}
