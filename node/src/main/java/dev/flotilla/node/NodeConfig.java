package dev.flotilla.node;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** One node's settings, read from its YAML file (docs/configuration.md) and overridden by flags. */
@JsonIgnoreProperties(ignoreUnknown = false)
public final class NodeConfig {
    private static final Pattern NODE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

    /** One member of the initial Raft group. */
    public static final class Peer {
        public String id;
        public String raft;
        public String api;
        public String transport;

        public Peer() {}

        public Peer(String id, String raft, String api, String transport) {
            this.id = id;
            this.raft = raft;
            this.api = api;
            this.transport = transport;
        }
    }

    /** Raft timing and snapshot settings. */
    public static final class Raft {
        public long electionMinMs = 2000;
        public long electionMaxMs = 4000;
        public boolean leaderLease = false;
        public double leaderLeaseRatio = 0.9;
        public long snapshotEvery = 10000;
        public long segmentSizeBytes = 8L << 20;
        public int purgeGap = 1024;
        public long requestTimeoutMs = 3000;
        public long clientTimeoutMs = 10000;
    }

    /** Capacity a node offers to placement. */
    public static final class Capacity {
        public int vcpu = Runtime.getRuntime().availableProcessors() * 4;
        public int memMb = 16384;
    }

    /** microvm.nix backend settings. */
    public static final class Microvm {
        public String stateDir = "/var/lib/microvms";
        public String microvmCommand = "microvm";
        public String systemctlCommand = "systemctl";
        /** Where {@code microvm -c} links each VM's runner so Nix keeps it. */
        public String gcRootsDir = "/nix/var/nix/gcroots/microvm";
        /** Where Flotilla writes one flake per VM; empty means {@code <state_dir>/.flotilla-flakes}. */
        public String flakeDir = "";
        /** Extra environment for both commands (the test host in scripts/microvm-host reads its settings here). */
        public Map<String, String> environment = new LinkedHashMap<>();
        /** Limit for create, start and status calls (a first {@code microvm -c} may build a NixOS closure). */
        public long commandTimeoutMs = 600_000;
        /** Limit for a stop; above the unit's TimeoutStopSec (150 s). */
        public long stopTimeoutMs = 180_000;
    }

    /** libvirt backend settings. */
    public static final class Libvirt {
        public String uri = "qemu:///system";
        /** {@code kvm} where /dev/kvm exists, {@code qemu} for software emulation. */
        public String domainType = "kvm";
        /** The libvirt network each VM's interface joins. */
        public String network = "default";
    }

    /** host-process backend settings. */
    public static final class Process {
        public long stopGraceMs = 5000;
        /** Where each process VM keeps its directory; empty means {@code <data_dir>/process}. */
        public String stateDir = "";
    }

    /** Lua runtime settings. */
    public static final class Lua {
        public int workers = 0;
        public long instructionBudget = 100000;
        /** Run programs compiled to JVM classes; false runs them in LuaJ's interpreter (slower, same sandbox). */
        public boolean compile = true;
        /** The most heap one VM's Lua data may hold (tables, strings, closures); past it the VM is stopped. */
        public long heapQuotaBytes = 64L << 20;
        /** The most one handler call may allocate, garbage included; past it the VM is stopped. */
        public long maxCallAllocBytes = 128L << 20;
    }

    public String nodeId = "n1";
    public String dataDir = "data/n1";
    public String apiAddress = "127.0.0.1:8088";
    public String raftAddress = "127.0.0.1:9088";
    public String transportAddress = "127.0.0.1:7088";
    public List<Peer> peers = new ArrayList<>();
    public boolean join = false;
    public String subnet = "10.0.0.0/16";
    public String logFormat = "text";
    public Capacity capacity = new Capacity();
    public Map<String, String> labels = new LinkedHashMap<>();
    public List<String> backends = new ArrayList<>(List.of("process", "lua"));
    public String desiredFile = "";
    public long nodeDownAfterMs = 10000;
    /** How often the leader's controller plans when nothing nudges it. */
    public long controlIntervalMs = 300;
    public int maxBodyBytes = 1 << 20;
    /** The local address VMs' host ports (spec.ports) are opened on. */
    public String forwardBindAddress = "0.0.0.0";
    /** Test only: serve reads from local state without ReadIndex (the chaos negative control). */
    @JsonProperty("unsafe_local_reads")
    public boolean unsafeLocalReads = false;
    public Raft raft = new Raft();
    public Microvm microvm = new Microvm();
    public Libvirt libvirt = new Libvirt();
    public Process process = new Process();
    public Lua lua = new Lua();

    private static ObjectMapper yaml() {
        return new ObjectMapper(new YAMLFactory())
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** Reads a config file; an unreadable or malformed file names the file, the key and the line. */
    public static NodeConfig load(Path file) {
        try {
            NodeConfig c = yaml().readValue(Files.readString(file), NodeConfig.class);
            return c == null ? new NodeConfig() : c;
        } catch (JsonMappingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new ConfigException(file + where + ": " + e.getOriginalMessage()
                    + " (keys are listed in docs/configuration.md)");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    /** Parses "n1=127.0.0.1:9088/127.0.0.1:8088/127.0.0.1:7088,n2=..." as given to --peers. */
    public static List<Peer> parsePeers(String spec) {
        List<Peer> out = new ArrayList<>();
        for (String item : spec.split(",")) {
            String s = item.trim();
            if (s.isEmpty()) continue;
            int eq = s.indexOf('=');
            if (eq <= 0) throw new ConfigException("--peers entry '" + s + "' must look like ID=RAFT_ADDR[/API_ADDR[/TRANSPORT_ADDR]]");
            String[] parts = s.substring(eq + 1).split("/");
            out.add(new Peer(s.substring(0, eq), parts[0], parts.length > 1 ? parts[1] : "", parts.length > 2 ? parts[2] : ""));
        }
        return out;
    }

    /** Checks the settings a node cannot start without; the message names the key and what is allowed. */
    public void validate() {
        if (nodeId == null || !NODE_ID.matcher(nodeId).matches())
            throw new ConfigException("node_id '" + nodeId + "' must be 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit");
        requireAddress("api_address", apiAddress);
        requireAddress("raft_address", raftAddress);
        requireAddress("transport_address", transportAddress);
        if (!"text".equals(logFormat) && !"json".equals(logFormat))
            throw new ConfigException("log_format '" + logFormat + "' must be text or json");
        if (nodeDownAfterMs < 500)
            throw new ConfigException("node_down_after_ms " + nodeDownAfterMs + " is too short; at least 500 (Raft heartbeats alone take that long)");
        if (controlIntervalMs < 10 || controlIntervalMs > 60000)
            throw new ConfigException("control_interval_ms " + controlIntervalMs + " must be 10..60000");
        if (forwardBindAddress == null || !forwardBindAddress.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*"))
            throw new ConfigException("forward_bind_address '" + forwardBindAddress + "' must be an IP address, e.g. 0.0.0.0 or 127.0.0.1");
        if (microvm.commandTimeoutMs < 1000 || microvm.stopTimeoutMs < 1000)
            throw new ConfigException("microvm.command_timeout_ms and microvm.stop_timeout_ms must be at least 1000");
        if (microvm.microvmCommand.isBlank() || microvm.systemctlCommand.isBlank())
            throw new ConfigException("microvm.microvm_command and microvm.systemctl_command must name a command");
        if (lua.instructionBudget < 100)
            throw new ConfigException("lua.instruction_budget " + lua.instructionBudget + " is too small; at least 100 (default 100000)");
        if (lua.heapQuotaBytes < 65536 || lua.heapQuotaBytes > Integer.MAX_VALUE)
            throw new ConfigException("lua.heap_quota_bytes " + lua.heapQuotaBytes + " is out of range; 65536 to 2147483647 (default 67108864, 64 MiB)");
        if (lua.maxCallAllocBytes < 1 << 20)
            throw new ConfigException("lua.max_call_alloc_bytes " + lua.maxCallAllocBytes + " is too small; at least 1048576 (default 134217728, 128 MiB)");
        if (raft.electionMinMs <= 0 || raft.electionMaxMs <= raft.electionMinMs)
            throw new ConfigException("raft.election_min_ms must be > 0 and below raft.election_max_ms");
        if (!join) {
            if (peers.isEmpty()) peers.add(new Peer(nodeId, raftAddress, apiAddress, transportAddress));
            if (peers.stream().noneMatch(p -> nodeId.equals(p.id)))
                throw new ConfigException("peers does not list this node's id '" + nodeId + "'; list every member of the initial group, this node included, or set join: true");
        }
        for (Peer p : peers) {
            if (p.id == null || !NODE_ID.matcher(p.id).matches())
                throw new ConfigException("peers: id '" + p.id + "' must be 1-32 characters of a-z, 0-9 and '-'");
            requireAddress("peers[" + p.id + "].raft", p.raft);
        }
    }

    private static void requireAddress(String key, String value) {
        try {
            HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key + ": " + e.getMessage());
        }
    }

    public Path processStateDir() {
        return process.stateDir.isEmpty() ? dataPath().resolve("process") : Path.of(process.stateDir);
    }

    public Path dataPath() {
        return Path.of(dataDir);
    }

    /** A configuration that cannot be used; the message says which key and why. */
    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }
    }
}
