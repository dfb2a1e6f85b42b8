package dev.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.Constraints;
import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.FirewallRule;
import dev.flotilla.proto.LuaProgram;
import dev.flotilla.proto.PortForward;
import dev.flotilla.proto.Rejection;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import dev.flotilla.proto.WarmPoolSpec;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class SpecRulesTest {
    static final VmSpec PROCESS = VmSpec.newBuilder().setRuntime("process").addCmd("/bin/sleep").build();

    static void assertInvalid(VmSpec spec, String field, String messagePart) {
        Optional<Rejection> r = SpecRules.validate(spec);
        assertTrue(r.isPresent(), () -> "expected " + field + " to be rejected in " + spec);
        assertEquals(field, r.get().getField(), () -> "wrong field in " + r.get());
        assertTrue(r.get().getMessage().contains(messagePart),
                () -> "message '" + r.get().getMessage() + "' should mention '" + messagePart + "'");
    }

    static VmSpec p(UnaryOperator<VmSpec.Builder> change) {
        return change.apply(PROCESS.toBuilder()).build();
    }

    @Test
    void normalizeFillsDefaultsAndSortsEnv() {
        VmSpec n = SpecRules.normalize(VmSpec.newBuilder().setRuntime("microvm")
                .addEnv(EnvVar.newBuilder().setName("B").setValue("2"))
                .addEnv(EnvVar.newBuilder().setName("A").setValue("1")).build());
        assertEquals("service", n.getLifecycle());
        assertEquals(1, n.getResources().getVcpu());
        assertEquals(256, n.getResources().getMemMb());
        assertEquals("qemu", n.getHypervisor());
        assertEquals(List.of("A", "B"), n.getEnvList().stream().map(EnvVar::getName).toList());
        assertEquals(n, SpecRules.normalize(n), "normalizing twice changes nothing");
        assertEquals("", SpecRules.normalize(PROCESS).getHypervisor(), "hypervisor only defaults for microvm");
    }

    @Test
    void acceptsAValidSpecOfEachRuntime() {
        assertEquals(Optional.empty(), SpecRules.validate(PROCESS));
        assertEquals(Optional.empty(), SpecRules.validate(VmSpec.newBuilder().setRuntime("microvm").build()));
        assertEquals(Optional.empty(), SpecRules.validate(VmSpec.newBuilder().setRuntime("libvirt").build()));
        assertEquals(Optional.empty(), SpecRules.validate(VmSpec.newBuilder().setRuntime("lua")
                .addPrograms(LuaProgram.newBuilder().setName("main").setPath("/srv/main.lua")).build()));
    }

    @Test
    void runtimeIsRequiredAndKnown() {
        assertInvalid(VmSpec.getDefaultInstance(), "spec.runtime", "required; allowed: libvirt, lua, microvm, process");
        assertInvalid(VmSpec.newBuilder().setRuntime("docker").build(), "spec.runtime", "'docker' is not known");
    }

    @Test
    void resourcesAreBounded() {
        assertInvalid(p(b -> b.setResources(Resources.newBuilder().setVcpu(65))), "spec.resources.vcpu", "1..64");
        assertInvalid(p(b -> b.setResources(Resources.newBuilder().setVcpu(-1))), "spec.resources.vcpu", "4294967295");
        assertInvalid(p(b -> b.setResources(Resources.newBuilder().setMemMb(15))), "spec.resources.mem_mb", "16..1048576");
        assertInvalid(p(b -> b.setResources(Resources.newBuilder().setMemMb(1_048_577))), "spec.resources.mem_mb", "16..");
        assertEquals(Optional.empty(), SpecRules.validate(p(b -> b.setResources(Resources.newBuilder().setVcpu(64)
                .setMemMb(1_048_576)))));
    }

    @Test
    void lifecycleAndWarmPool() {
        assertInvalid(p(b -> b.setLifecycle("cron")), "spec.lifecycle", "daemon, job, service");
        assertInvalid(p(b -> b.setWarmPool(WarmPoolSpec.newBuilder().setMin(3).setMax(2))), "spec.warm_pool.min", "<= max");
        assertInvalid(p(b -> b.setWarmPool(WarmPoolSpec.newBuilder().setMax(65))), "spec.warm_pool.max", "0..64");
        assertEquals(Optional.empty(), SpecRules.validate(p(b -> b.setWarmPool(WarmPoolSpec.newBuilder().setMin(64).setMax(64)))));
    }

    @Test
    void dnsNamesFollowRfc1123() {
        assertEquals(Optional.empty(), SpecRules.validate(p(b -> b.setDnsName("web-1.prod.internal"))));
        assertInvalid(p(b -> b.setDnsName("Web.internal")), "spec.dns_name", "lowercase");
        assertInvalid(p(b -> b.setDnsName("-web")), "spec.dns_name", "not starting or ending with '-'");
        assertInvalid(p(b -> b.setDnsName("a..b")), "spec.dns_name", "RFC 1123");
        assertInvalid(p(b -> b.setDnsName("x".repeat(64))), "spec.dns_name", "RFC 1123");
        String long254 = String.join(".", List.of("a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62)));
        assertInvalid(p(b -> b.setDnsName(long254)), "spec.dns_name", "at most 253");
        assertInvalid(p(b -> b.setDnsName("web").addAliases("Bad")), "spec.aliases[0]", "RFC 1123");
        assertInvalid(p(b -> b.addAliases("www")), "spec.aliases[0]", "set spec.dns_name first");
        assertInvalid(p(b -> b.setDnsName("web").addAliases("www").addAliases("www")), "spec.aliases[1]", "each name once");
    }

    @Test
    void runtimeSpecificNeeds() {
        assertInvalid(VmSpec.newBuilder().setRuntime("process").build(), "spec.cmd", "non-empty list");
        assertInvalid(VmSpec.newBuilder().setRuntime("lua").build(), "spec.programs", "at least one program");
        assertInvalid(VmSpec.newBuilder().setRuntime("lua").addPrograms(LuaProgram.newBuilder().setSource("x")).build(),
                "spec.programs[0].name", "needs a name");
        assertInvalid(VmSpec.newBuilder().setRuntime("lua").addPrograms(LuaProgram.newBuilder().setName("m")).build(),
                "spec.programs[0].source", "exactly one of source");
        assertInvalid(VmSpec.newBuilder().setRuntime("lua").addPrograms(LuaProgram.newBuilder().setName("m")
                .setSource("x").setPath("/y")).build(), "spec.programs[0].source", "exactly one of source");
        assertInvalid(VmSpec.newBuilder().setRuntime("microvm").setHypervisor("bochs").build(), "spec.hypervisor",
                "cloud-hypervisor, firecracker, qemu");
    }

    @Test
    void portsAreInRangeKnownAndNotRepeated() {
        assertInvalid(p(b -> b.addPorts(PortForward.newBuilder().setHost(0).setGuest(80))), "spec.ports[0].host", "1..65535");
        assertInvalid(p(b -> b.addPorts(PortForward.newBuilder().setHost(80).setGuest(70000))), "spec.ports[0].guest",
                "1..65535");
        assertInvalid(p(b -> b.addPorts(PortForward.newBuilder().setHost(80).setGuest(80).setProto("sctp"))),
                "spec.ports[0].proto", "tcp, udp");
        assertInvalid(p(b -> b.addPorts(PortForward.newBuilder().setHost(80).setGuest(80))
                .addPorts(PortForward.newBuilder().setHost(80).setGuest(81).setProto("tcp"))), "spec.ports[1].host",
                "forwarded twice");
        assertEquals(Optional.empty(), SpecRules.validate(p(b -> b.addPorts(PortForward.newBuilder().setHost(80).setGuest(80))
                .addPorts(PortForward.newBuilder().setHost(80).setGuest(80).setProto("udp")))));
    }

    @Test
    void firewallActionsAndEnvNames() {
        assertInvalid(p(b -> b.addFirewall(FirewallRule.newBuilder().setAction("drop"))), "spec.firewall[0].action",
                "allow, deny");
        assertInvalid(p(b -> b.addFirewall(FirewallRule.newBuilder().setAction("allow").setPort(-5))),
                "spec.firewall[0].port", "1..65535");
        assertInvalid(p(b -> b.addEnv(EnvVar.newBuilder().setName("A=B"))), "spec.env[0].name", "not allowed");
        assertInvalid(p(b -> b.addEnv(EnvVar.newBuilder().setName("A")).addEnv(EnvVar.newBuilder().setName("A"))),
                "spec.env[1].name", "twice");
        assertInvalid(p(b -> b.setHostname("Host_1")), "spec.hostname", "RFC 1123");
    }

    @Test
    void idsAreShortAndSafe() {
        assertEquals(Optional.empty(), Ids.validateJobId("web-1.prod_2"));
        assertEquals(Optional.empty(), Ids.validateTenant("A".repeat(63)));
        assertEquals("job_id", Ids.validateJobId("").orElseThrow().getField());
        assertTrue(Ids.validateJobId("a".repeat(64)).orElseThrow().getMessage().contains("at most 63"));
        for (String bad : List.of("../x", "a/b", "-a", ".a", "a b", "a;rm", "é", "a\u0000b", "a\nb")) {
            assertTrue(Ids.validateJobId(bad).isPresent(), () -> "'" + bad + "' must be rejected");
        }
        assertTrue(Ids.validateJobId("a\nb").orElseThrow().getMessage().contains("\\x0a"), "control characters are escaped");
        assertEquals("tenant", Ids.validateTenant("a/b").orElseThrow().getField());
    }

    @Test
    void specHashCoversTheMachineNotItsNames() {
        VmSpec base = p(b -> b.addEnv(EnvVar.newBuilder().setName("B").setValue("2"))
                .addEnv(EnvVar.newBuilder().setName("A").setValue("1")));
        String h = SpecHash.of(base);
        assertEquals(64, h.length());
        assertEquals(h, SpecHash.of(p(b -> b.addEnv(EnvVar.newBuilder().setName("A").setValue("1"))
                .addEnv(EnvVar.newBuilder().setName("B").setValue("2")))), "env order does not matter");
        assertEquals(h, SpecHash.of(base.toBuilder().setDnsName("web").addAliases("www")
                .addPorts(PortForward.newBuilder().setHost(80).setGuest(80))
                .setWarmPool(WarmPoolSpec.newBuilder().setMax(3))
                .setConstraints(Constraints.newBuilder().setNode("n1")).build()), "names, ports, pools, placement are left out");
        assertEquals(h, SpecHash.of(base.toBuilder().setResources(Resources.newBuilder().setVcpu(1).setMemMb(256)).build()),
                "defaults are applied first");
        assertNotEquals(h, SpecHash.of(base.toBuilder().addCmd("60").build()));
        assertNotEquals(h, SpecHash.of(base.toBuilder().setResources(Resources.newBuilder().setVcpu(2)).build()));
        assertNotEquals(h, SpecHash.of(base.toBuilder().setRootfs("/img").build()));
        assertNotEquals(h, SpecHash.of(base.toBuilder().setHostname("h").build()));
    }

    @Test
    void subnetParsesAndNamesProblems() {
        Subnet s = Subnet.parse("10.0.0.0/16");
        assertEquals(65534 - 1, s.assignableCount());
        assertEquals("10.0.0.1", s.gateway());
        assertEquals(Optional.of(5), s.offsetOf("10.0.0.5"));
        assertEquals(Optional.empty(), s.offsetOf("10.1.0.5"));
        assertEquals("02:00:0a:00:01:02", Subnet.macFor("10.0.1.2"));
        assertEquals("4.3.2.1.in-addr.arpa", Subnet.reverseName("1.2.3.4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Subnet.parse("10.0.0.1/16")).getMessage()
                .contains("10.0.0.0/16"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Subnet.parse("10.0.0.0")).getMessage()
                .contains("CIDR"));
        assertThrows(IllegalArgumentException.class, () -> Subnet.parse("10.0.0.0/31"));
        assertThrows(IllegalArgumentException.class, () -> Subnet.parse("300.0.0.0/16"));
    }
}
