package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.node.api.ApiError;
import dev.flotilla.node.api.VmJson;
import dev.flotilla.node.control.DesiredFile;
import dev.flotilla.node.control.DesiredPlan;
import dev.flotilla.node.control.Lifecycle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `flotilla apply -f vms.yaml`: makes the registry hold the VMs a desired-state file declares. */
@Command(name = "apply", mixinStandardHelpOptions = true,
        description = {"Declare VMs from a file: a list of {job_id, tenant, spec} (YAML or JSON, at the top level",
                "or under 'vms:'). Each VM is created or its spec replaced (upsert); VMs that already match are",
                "left alone. A file with any problem is rejected whole, every problem with its line, nothing applied.", "",
                "Examples:",
                "  flotilla apply -f vms.yaml --dry-run     # print the plan: create, update, delete, unchanged",
                "  flotilla apply -f vms.yaml --prune --wait"})
final class ApplyCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin ServerOptions server;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "The desired-state file.")
    Path file;

    @Option(names = "--prune", description = "Also delete the VMs of the file's tenants that the file does not list.")
    boolean prune;

    @Option(names = "--dry-run", description = "Print the plan and change nothing.")
    boolean dryRun;

    @Option(names = "--wait", description = "After applying, show progress until every declared VM reached its desired state.")
    boolean await;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long --wait waits (default 300).")
    long timeoutSeconds = 300;

    @Override
    public Integer call() throws InterruptedException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            System.err.println("error: cannot read " + file + ": " + e.getMessage());
            return 2;
        }
        DesiredFile.Parsed parsed = DesiredFile.parse(file.toString(), text);
        if (parsed instanceof DesiredFile.Parsed.Bad bad) {
            bad.problems().forEach(p -> System.err.println("error: " + p));
            System.err.println(file + " has " + bad.problems().size() + " problem(s); nothing was applied. Fix them and run apply again.");
            return 2;
        }
        List<DesiredFile.Entry> entries = ((DesiredFile.Parsed.Ok) parsed).entries();
        try {
            ApiClient client = server.client();
            ApiClient.Answer listed = client.get("/vms");
            if (!listed.ok()) return Output.refused(listed, false);
            List<DesiredPlan.Current> current = new ArrayList<>();
            for (JsonNode v : listed.body().path("vms")) {
                try {
                    current.add(new DesiredPlan.Current(v.path("id").asText(), v.path("tenant").asText(),
                            VmJson.spec(v.path("spec")), v.path("warm").asBoolean()));
                } catch (ApiError e) {
                    System.err.println("warning: cannot read the spec of VM " + v.path("id").asText() + " (" + e.getMessage() + "); it is treated as different");
                }
            }
            List<DesiredPlan.Step> plan = DesiredPlan.plan(entries, current, prune);
            printPlan(plan);
            if (dryRun) {
                System.out.println("dry run: nothing changed");
                return 0;
            }
            int failed = 0;
            for (DesiredPlan.Step s : plan) {
                ApiClient.Answer a;
                switch (s.kind()) {
                    case CREATE, UPDATE -> {
                        ObjectNode req = JSON.createObjectNode().put("job_id", s.jobId()).put("tenant", s.tenant());
                        req.set("spec", s.entry().specJson());
                        a = client.post("/vms", req);
                    }
                    case DELETE -> a = client.delete(VmCommand.path(s.jobId()));
                    default -> {
                        continue;
                    }
                }
                if (a.ok()) {
                    System.out.println(s.kind().name().toLowerCase() + "d " + s.jobId()
                            + (a.status() == 201 ? " (claimed a running warm VM)" : ""));
                } else {
                    failed++;
                    Output.refused(a, false);
                }
            }
            if (failed > 0) {
                System.err.println(failed + " change(s) were refused (above); the others were applied");
                return Flotilla.REFUSED;
            }
            return await ? awaitDesired(client, plan) : 0;
        } catch (ApiClient.Unreachable e) {
            return Output.unreachable(e);
        }
    }

    private static void printPlan(List<DesiredPlan.Step> plan) {
        Table t = new Table("ACTION", "JOB_ID", "TENANT", "WHY");
        Map<DesiredPlan.Kind, Integer> counts = new TreeMap<>();
        for (DesiredPlan.Step s : plan) {
            t.row(s.kind().name().toLowerCase(), s.jobId(), s.tenant(), s.why());
            counts.merge(s.kind(), 1, Integer::sum);
        }
        System.out.print(t);
        System.out.println("plan: " + counts.getOrDefault(DesiredPlan.Kind.CREATE, 0) + " to create, "
                + counts.getOrDefault(DesiredPlan.Kind.UPDATE, 0) + " to update, "
                + counts.getOrDefault(DesiredPlan.Kind.DELETE, 0) + " to delete, "
                + counts.getOrDefault(DesiredPlan.Kind.UNCHANGED, 0) + " unchanged");
    }

    /** Polls until each declared VM runs (a job: has ended) and each pruned one is gone; prints each change of progress. */
    private int awaitDesired(ApiClient client, List<DesiredPlan.Step> plan) throws ApiClient.Unreachable, InterruptedException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        String last = "";
        while (true) {
            ApiClient.Answer a = client.get("/vms");
            if (!a.ok()) return Output.refused(a, false);
            Map<String, JsonNode> byId = new TreeMap<>();
            a.body().path("vms").forEach(v -> byId.put(v.path("id").asText(), v));
            int done = 0, failed = 0;
            List<String> waiting = new ArrayList<>();
            for (DesiredPlan.Step s : plan) {
                JsonNode v = byId.get(s.jobId());
                if (s.kind() == DesiredPlan.Kind.DELETE) {
                    if (v == null) done++;
                    else waiting.add(s.jobId() + ": being deleted");
                    continue;
                }
                String observed = v == null ? "missing" : v.path("observed").asText();
                boolean job = Lifecycle.isJob(s.entry().spec().getLifecycle());
                if (job ? observed.equals("exited") || observed.equals("failed") : observed.equals("running")) {
                    done++;
                } else {
                    if (!job && observed.equals("failed")) failed++;
                    String reason = v == null ? "" : v.path("reason").asText();
                    waiting.add(s.jobId() + ": " + observed + (reason.isEmpty() ? "" : " (" + reason + ")"));
                }
            }
            String line = done + "/" + plan.size() + " in their desired state" + (waiting.isEmpty() ? "" : "; waiting for " + String.join(", ", waiting));
            if (!line.equals(last)) {
                System.out.println(line);
                last = line;
            }
            if (waiting.isEmpty()) return 0;
            if (System.nanoTime() > deadline) {
                System.err.println("error: after " + timeoutSeconds + " s, " + waiting.size() + " VM(s) have not reached their desired state"
                        + (failed > 0 ? " (" + failed + " failed)" : "") + "; see 'flotilla vm get ID' for each");
                return Flotilla.REFUSED;
            }
            Thread.sleep(500); // polling the API for progress, not synchronisation
        }
    }
}
