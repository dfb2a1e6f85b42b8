package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** `flotilla stats`: jobs and warm pools, from GET /stats. */
@Command(name = "stats", mixinStandardHelpOptions = true, description = "Show every job and every warm-pool VM.")
final class StatsCommand implements Callable<Integer> {
    @Mixin ServerOptions server;

    @Override
    public Integer call() {
        try {
            ApiClient.Answer a = server.client().get("/stats");
            if (!a.ok()) return Output.refused(a, server.json);
            if (server.json) {
                Output.json(a.body());
                return 0;
            }
            JsonNode b = a.body();
            System.out.println("jobs: " + b.path("summary").path("total_jobs").asLong() + ", warm: "
                    + b.path("summary").path("total_warm").asLong());
            Table jobs = new Table("JOB_ID", "VM_ID", "TENANT", "STATUS", "NODE", "RUNTIME");
            for (JsonNode j : b.path("jobs")) {
                jobs.row(j.path("job_id").asText(), j.path("vm_id").asText(), j.path("tenant").asText(),
                        j.path("status").asText(), j.path("node").asText("-"), j.path("spec").path("runtime").asText());
            }
            System.out.print(jobs);
            if (b.path("warm_pool").size() > 0) {
                Table warm = new Table("SPEC_HASH", "VM_ID", "STATUS");
                for (JsonNode w : b.path("warm_pool")) {
                    warm.row(w.path("spec_hash").asText().substring(0, Math.min(12, w.path("spec_hash").asText().length())),
                            w.path("vm_id").asText(), w.path("status").asText());
                }
                System.out.print(warm);
            }
            return 0;
        } catch (ApiClient.Unreachable e) {
            return Output.unreachable(e);
        }
    }
}
