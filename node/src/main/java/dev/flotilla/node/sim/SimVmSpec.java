package dev.flotilla.node.sim;

import dev.flotilla.proto.FirewallRule;

import java.util.List;
import java.util.Map;

/**
 * One simulated VM to run: its id, address, programs (the first is started at boot, the others can be
 * started with os.spawn), inbound firewall, file quota and the files to seed it with (what the
 * replicated log holds for it, so it comes back with its files after a restart or failover).
 *
 * @param fsQuotaBytes 0 means the runtime's default quota
 */
public record SimVmSpec(String id, String ip, String hostname, List<SimProgram> programs,
                        List<FirewallRule> firewall, long fsQuotaBytes, Map<String, byte[]> files) {

    public SimVmSpec {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("id is empty; every simulated VM needs an id");
        }
        if (programs == null || programs.isEmpty()) {
            throw new IllegalArgumentException("programs is empty for VM " + id + "; give at least one program");
        }
        if (fsQuotaBytes < 0) {
            throw new IllegalArgumentException("fs.quota_bytes is " + fsQuotaBytes + " for VM " + id + "; use 0 or more");
        }
        programs = List.copyOf(programs);
        firewall = firewall == null ? List.of() : List.copyOf(firewall);
        files = files == null ? Map.of() : Map.copyOf(files);
        hostname = hostname == null || hostname.isBlank() ? id : hostname;
    }

    /** A VM with one program, no firewall, the default quota and no files. */
    public static SimVmSpec of(String id, String ip, SimProgram program) {
        return new SimVmSpec(id, ip, id, List.of(program), List.of(), 0, Map.of());
    }

    public SimVmSpec withFiles(Map<String, byte[]> seed) {
        return new SimVmSpec(id, ip, hostname, programs, firewall, fsQuotaBytes, seed);
    }

    public SimVmSpec withFirewall(List<FirewallRule> rules) {
        return new SimVmSpec(id, ip, hostname, programs, rules, fsQuotaBytes, files);
    }

    public SimVmSpec withQuota(long bytes) {
        return new SimVmSpec(id, ip, hostname, programs, firewall, bytes, files);
    }

    public SimVmSpec withPrograms(List<SimProgram> list) {
        return new SimVmSpec(id, ip, hostname, list, firewall, fsQuotaBytes, files);
    }
}
