package dev.flotilla.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.VmSpec;
import dev.flotilla.statemachine.SpecRules;
import java.util.List;
import org.junit.jupiter.api.Test;

class DesiredFileTest {
    private static final String GOOD = """
            vms:
              - job_id: web-1
                tenant: shop
                spec: {runtime: process, cmd: [sleep, "600"]}
              - job_id: web-2
                tenant: shop
                spec:
                  runtime: process
                  cmd: [sleep, "600"]
                  resources: {vcpu: 2, mem_mb: 512}
            """;

    @Test
    void aGoodFileGivesEveryEntryWithItsLineAndNormalizedSpec() {
        DesiredFile.Parsed.Ok ok = assertInstanceOf(DesiredFile.Parsed.Ok.class, DesiredFile.parse("vms.yaml", GOOD));
        assertEquals(List.of("web-1", "web-2"), ok.entries().stream().map(DesiredFile.Entry::jobId).toList());
        assertEquals(List.of(2, 5), ok.entries().stream().map(DesiredFile.Entry::line).toList());
        assertEquals("service", ok.entries().get(0).spec().getLifecycle(), "defaults are filled");
        assertEquals(2, ok.entries().get(1).spec().getResources().getVcpu());
    }

    @Test
    void aTopLevelListIsAcceptedAndTheTenantDefaultsToTheJobId() {
        DesiredFile.Parsed.Ok ok = assertInstanceOf(DesiredFile.Parsed.Ok.class,
                DesiredFile.parse("x", "- {job_id: a, spec: {runtime: process, cmd: [\"true\"]}}\n"));
        assertEquals("a", ok.entries().get(0).tenant());
    }

    @Test
    void aBadFileIsRejectedWholeWithEveryProblemAndItsLine() {
        String bad = """
                - job_id: ok-1
                  spec: {runtime: process, cmd: [sleep, "1"]}
                - job_id: bad/id
                  spec: {runtime: process, cmd: [sleep, "1"]}
                - job_id: ok-1
                  spec: {runtime: process, cmd: [sleep, "1"]}
                - job_id: no-cmd
                  spec: {runtime: process, colour: red}
                - job_id: big
                  spec: {runtime: process, cmd: [x], resources: {vcpu: 999}}
                """;
        DesiredFile.Parsed.Bad b = assertInstanceOf(DesiredFile.Parsed.Bad.class, DesiredFile.parse("vms.yaml", bad));
        assertEquals(4, b.problems().size(), String.join("\n", b.problems()));
        assertTrue(b.problems().get(0).startsWith("vms.yaml line 3 (vms[1]): job_id"), b.problems().get(0));
        assertTrue(b.problems().get(1).contains("line 5") && b.problems().get(1).contains("first at line 1"), b.problems().get(1));
        assertTrue(b.problems().get(2).contains("line 7") && b.problems().get(2).contains("spec.colour"), b.problems().get(2));
        assertTrue(b.problems().get(3).contains("line 9") && b.problems().get(3).contains("spec.resources.vcpu"), b.problems().get(3));
    }

    @Test
    void brokenYamlNamesItsLine() {
        DesiredFile.Parsed.Bad b = assertInstanceOf(DesiredFile.Parsed.Bad.class,
                DesiredFile.parse("vms.yaml", "- job_id: a\n  spec: {runtime: process\n- job_id: b\n"));
        assertTrue(b.problems().get(0).startsWith("vms.yaml line "), b.problems().toString());
    }

    @Test
    void thePlanCreatesUpdatesKeepsAndPrunesOnlyTheFilesTenants() {
        DesiredFile.Parsed.Ok ok = (DesiredFile.Parsed.Ok) DesiredFile.parse("vms.yaml", GOOD);
        VmSpec same = ok.entries().get(0).spec();
        VmSpec other = SpecRules.normalize(VmSpec.newBuilder().setRuntime("process").addCmd("other").build());
        List<DesiredPlan.Current> current = List.of(
                new DesiredPlan.Current("web-1", "shop", same, false),
                new DesiredPlan.Current("old", "shop", other, false),
                new DesiredPlan.Current("warm-1", "shop", other, true),
                new DesiredPlan.Current("theirs", "elsewhere", other, false));
        List<DesiredPlan.Step> plan = DesiredPlan.plan(ok.entries(), current, true);
        assertEquals(List.of("UNCHANGED web-1", "CREATE web-2", "DELETE old"),
                plan.stream().map(s -> s.kind() + " " + s.jobId()).toList());
        assertEquals(List.of("UNCHANGED web-1", "CREATE web-2"),
                DesiredPlan.plan(ok.entries(), current, false).stream().map(s -> s.kind() + " " + s.jobId()).toList());
        List<DesiredPlan.Current> changed = List.of(new DesiredPlan.Current("web-1", "shop", other, false));
        assertEquals(DesiredPlan.Kind.UPDATE, DesiredPlan.plan(ok.entries(), changed, false).get(0).kind());
    }
}
