package dev.flotilla.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.node.cli.Flotilla;
import dev.flotilla.node.cluster.LocalCluster.Member;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The CLI against three real nodes: VM commands, Raft administration, output and exit codes. */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one CLI invocation printed and returned. */
    record Run(int code, String out, String err) {
        JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + out + " / " + err, e);
            }
        }
    }

    private static synchronized Run cli(List<String> servers, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        for (String s : servers) {
            all.add("--server");
            all.add(s);
        }
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = new CommandLine(new Flotilla()).execute(all.toArray(String[]::new));
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void vmCommandsAndRaftAdministration() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, Files.createTempDirectory("flotilla-cli-test"), Map.of())) {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofSeconds(90));
            String leader = cluster.awaitLeader(Duration.ofSeconds(60));
            List<String> all = cluster.members().stream().map(Member::apiAddress).toList();

            // VM commands: table by default, JSON with --json, exit 1 when refused
            Run create = cli(all, "vm", "create", "--job-id", "cli-1", "--runtime", "process", "--cmd", "sleep", "--cmd", "60", "--json");
            assertEquals(0, create.code(), create.err());
            assertEquals("cli-1", create.json().path("id").asText());
            Run list = cli(all, "vm", "list");
            assertEquals(0, list.code());
            assertTrue(list.out().startsWith("ID") && list.out().contains("cli-1"), list.out());
            Run again = cli(all, "vm", "start", "cli-1");
            assertEquals(1, again.code(), "an illegal transition is a refusal");
            assertTrue(again.err().contains("already"), again.err());
            Run missing = cli(all, "vm", "get", "nope");
            assertEquals(1, missing.code());
            Run bad = cli(all, "vm", "create", "--job-id", "x", "--runtime", "nonsense");
            assertEquals(1, bad.code());
            assertTrue(bad.err().contains("spec.runtime"), bad.err());
            // a down first server is skipped
            Run failover = cli(List.of("127.0.0.1:1", all.get(1)), "vm", "get", "cli-1", "--json");
            assertEquals(0, failover.code(), failover.err());
            Run none = cli(List.of("127.0.0.1:1"), "vm", "list");
            assertEquals(3, none.code(), "no node reachable");
            assertTrue(none.err().contains("no Flotilla node answered"), none.err());

            // status
            Run status = cli(all, "cluster", "status", "--json");
            assertEquals(0, status.code());
            assertEquals(3, status.json().size());

            // add a fourth node: it starts with an empty group and joins by a configuration change
            Member n4 = cluster.addJoiningMember();
            cluster.start(n4);
            Eventually.await("n4's API to answer", Duration.ofSeconds(60), () -> cluster.get(n4, "/cluster").isPresent());
            Run add = cli(all, "cluster", "add-peer", n4.id, "127.0.0.1:" + n4.raft);
            assertEquals(0, add.code(), add.out() + add.err());
            Eventually.await("four members", Duration.ofSeconds(60),
                    () -> cli(all, "cluster", "members", "--json").json().size() == 4);
            Eventually.await("n4 to hold cli-1", Duration.ofSeconds(60),
                    () -> cluster.get(n4, "/vms/cli-1").map(r -> r.status() == 200).orElse(false));
            Run dup = cli(all, "cluster", "add-peer", n4.id, "127.0.0.1:" + n4.raft);
            assertEquals(1, dup.code(), "adding a member twice is refused: " + dup.out());

            // transfer leadership to another node
            String target = cluster.members().stream().map(m -> m.id).filter(id -> !id.equals(leader) && !id.equals("n4")).findFirst().orElseThrow();
            Run transfer = cli(all, "cluster", "transfer-leader", target);
            assertEquals(0, transfer.code(), transfer.out() + transfer.err());
            Eventually.await("leader " + target, Duration.ofSeconds(60), () -> target.equals(cluster.awaitLeader(Duration.ofSeconds(30))));

            // remove n4 again
            Run remove = cli(all, "cluster", "remove-peer", n4.id);
            assertEquals(0, remove.code(), remove.out() + remove.err());
            Eventually.await("three members", Duration.ofSeconds(60),
                    () -> cli(all, "cluster", "members", "--json").json().size() == 3);

            // snapshot on one node
            Run snap = cli(List.of(cluster.member(target).apiAddress()), "cluster", "snapshot", "--json");
            assertEquals(0, snap.code(), snap.out() + snap.err());
            assertTrue(snap.json().path("snapshot_index").asLong() > 0, snap.out());

            // pause and resume elections on a follower
            Member follower = cluster.members().stream().filter(m -> !m.id.equals(target) && !m.id.equals("n4")).findFirst().orElseThrow();
            Run pause = cli(List.of(follower.apiAddress()), "cluster", "pause-election");
            assertEquals(0, pause.code(), pause.out() + pause.err());
            Run resume = cli(List.of(follower.apiAddress()), "cluster", "resume-election");
            assertEquals(0, resume.code(), resume.out() + resume.err());
            assertNotEquals("", cluster.awaitLeader(Duration.ofSeconds(30)));
        }
    }
}
