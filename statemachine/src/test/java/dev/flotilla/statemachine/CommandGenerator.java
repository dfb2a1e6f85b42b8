package dev.flotilla.statemachine;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.Assign;
import dev.flotilla.proto.ClaimWarm;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandBatch;
import dev.flotilla.proto.DeleteVm;
import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.FsDelta;
import dev.flotilla.proto.FsSpec;
import dev.flotilla.proto.LuaProgram;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.PortForward;
import dev.flotilla.proto.RegisterNode;
import dev.flotilla.proto.RemovePeerRecord;
import dev.flotilla.proto.ReportStatus;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.SetNodeState;
import dev.flotilla.proto.StartVm;
import dev.flotilla.proto.StopVm;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Random;

/**
 * Seeded random command sequences over a small world (16 job ids, 3 nodes, a few names and ports, a
 * subnet of 13 addresses), so commands collide: bad transitions, unknown ids, version conflicts, name
 * and port clashes, stale epochs, full subnet, repeated request ids and outright invalid commands.
 */
final class CommandGenerator {
    static final String SUBNET = "10.9.0.0/28";
    private static final String[] NAMES = {"a.svc", "b.svc", "c.svc", "d.svc"};
    private final Random rnd;
    private final List<Long> assigns = new ArrayList<>();
    private final List<String> assignedJobs = new ArrayList<>();
    private final List<String> upsertedJobs = new ArrayList<>();
    private long index;

    CommandGenerator(long seed) {
        rnd = new Random(seed);
    }

    List<Command> sequence(int n) {
        List<Command> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    private String job() {
        return "j" + rnd.nextInt(16);
    }

    private String node() {
        return "n" + rnd.nextInt(3);
    }

    private long someVersion() {
        int k = rnd.nextInt(4);
        if (k == 0) {
            return 0;
        }
        if (k == 1 || index < 2) {
            return rnd.nextInt(5);
        }
        return Math.max(1, index - 1 - rnd.nextInt((int) Math.min(index - 1, 20)));
    }

    /** Mostly a job that was assigned lately, so reports and file deltas often reach a placed VM. */
    private String assignedJob() {
        if (!assignedJobs.isEmpty() && rnd.nextInt(10) < 7) {
            return assignedJobs.get(assignedJobs.size() - 1 - rnd.nextInt(Math.min(assignedJobs.size(), 3)));
        }
        return job();
    }

    /**
     * Three times in four, one of the last three assignments (job and epoch taken together, so a report or a
     * file delta reaches a placed VM at its current epoch); otherwise -1, and the caller draws the job
     * and the epoch apart, which makes stale epochs and unknown VMs.
     */
    private int recentAssign() {
        if (assigns.isEmpty() || rnd.nextInt(4) == 0) {
            return -1;
        }
        return assigns.size() - 1 - rnd.nextInt(Math.min(assigns.size(), 3));
    }

    private long someEpoch() {
        if (!assigns.isEmpty() && rnd.nextInt(10) < 7) {
            return assigns.get(assigns.size() - 1 - rnd.nextInt(Math.min(assigns.size(), 4)));
        }
        return rnd.nextInt(3);
    }

    private VmSpec spec() {
        VmSpec.Builder b = VmSpec.newBuilder();
        // Half are lua: only lua VMs keep files, and file deltas must succeed often enough to be tested.
        int runtime = rnd.nextInt(6);
        switch (runtime) {
            case 0 -> b.setRuntime("process").addCmd("/bin/sleep").addCmd(Integer.toString(rnd.nextInt(3)));
            case 1, 4, 5 -> b.setRuntime("lua").addPrograms(LuaProgram.newBuilder().setName("main").setSource("return {}"))
                    .setFs(FsSpec.newBuilder().setQuotaBytes(rnd.nextBoolean() ? 0 : 400));
            case 2 -> b.setRuntime("microvm").setRootfs("/img/" + rnd.nextInt(2));
            default -> b.setRuntime("libvirt");
        }
        if (rnd.nextBoolean()) {
            b.setDnsName(NAMES[rnd.nextInt(NAMES.length)]);
            if (rnd.nextInt(3) == 0) {
                b.addAliases("www." + b.getDnsName());
            }
        }
        if (rnd.nextInt(3) == 0) {
            b.addPorts(PortForward.newBuilder().setHost(8080 + rnd.nextInt(2)).setGuest(80)
                    .setProto(rnd.nextBoolean() ? "tcp" : "udp"));
        }
        if (rnd.nextBoolean()) {
            b.addEnv(EnvVar.newBuilder().setName("Z").setValue("" + rnd.nextInt(3)));
            b.addEnv(EnvVar.newBuilder().setName("A").setValue("1"));
        }
        if (rnd.nextInt(10) == 0) {
            b.setResources(Resources.newBuilder().setVcpu(rnd.nextInt(70))); // sometimes over 64: invalid
        }
        return b.build();
    }

    /**
     * The next log entry: mostly one command; one in eight a batch of up to eight on distinct subjects,
     * as a node's group commit sends them; one in twenty of those breaks the batch rules on purpose.
     */
    Command next() {
        index++;
        if (rnd.nextInt(8) != 0) {
            return single();
        }
        CommandBatch.Builder batch = CommandBatch.newBuilder();
        Set<String> taken = new HashSet<>();
        boolean breakRules = rnd.nextInt(20) == 0;
        for (int i = 0, n = 2 + rnd.nextInt(7); i < n; i++) {
            Command c = single();
            List<String> subjects = Batch.subjects(c);
            if (!breakRules && !Batch.fits(taken, subjects)) continue;
            taken.addAll(subjects);
            batch.addCommands(c);
        }
        if (breakRules && rnd.nextBoolean()) {
            batch.addCommands(batch.getCommands(0)); // the same subject twice
        }
        return Command.newBuilder().setStampedMs(1_700_000_000_000L + index * 7).setOriginNode(node())
                .setBatch(batch).build();
    }

    private Command single() {
        Command.Builder c = Command.newBuilder().setStampedMs(1_700_000_000_000L + index * 7).setOriginNode(node());
        if (rnd.nextInt(5) == 0) {
            c.setRequestId("r" + rnd.nextInt(12));
        }
        int k = rnd.nextInt(100);
        if (k < 28) {
            String upserted = job();
            upsertedJobs.add(upserted);
            UpsertVm.Builder u = UpsertVm.newBuilder().setJobId(upserted).setSpec(spec());
            if (rnd.nextInt(6) == 0) {
                u.setHasExpectedVersion(true).setExpectedVersion(someVersion());
            }
            if (rnd.nextInt(10) == 0) {
                u.setCreateOnly(true);
            }
            if (rnd.nextInt(5) == 0) {
                u.setTenant("t" + rnd.nextInt(2));
            }
            c.setUpsertVm(u);
        } else if (k < 38) {
            StartVm.Builder s = StartVm.newBuilder().setJobId(job());
            if (rnd.nextInt(6) == 0) {
                s.setHasExpectedVersion(true).setExpectedVersion(someVersion());
            }
            c.setStartVm(s);
        } else if (k < 48) {
            StopVm.Builder s = StopVm.newBuilder().setJobId(job());
            if (rnd.nextInt(6) == 0) {
                s.setHasExpectedVersion(true).setExpectedVersion(someVersion());
            }
            c.setStopVm(s);
        } else if (k < 55) {
            DeleteVm.Builder d = DeleteVm.newBuilder().setJobId(job());
            if (rnd.nextInt(6) == 0) {
                d.setHasExpectedVersion(true).setExpectedVersion(someVersion());
            }
            c.setDeleteVm(d);
        } else if (k < 60) {
            c.setRegisterNode(RegisterNode.newBuilder().setNode(NodeRecord.newBuilder().setId(node())
                    .setApiAddress("127.0.0.1:" + (8088 + rnd.nextInt(3)))));
        } else if (k < 63) {
            c.setSetNodeState(SetNodeState.newBuilder().setNodeId(node())
                    .setState(rnd.nextBoolean() ? NodeState.NODE_DOWN : NodeState.NODE_UP)
                    .setSetDrained(rnd.nextBoolean()).setDrained(rnd.nextBoolean()));
        } else if (k < 65) {
            c.setRemoveNode(RemovePeerRecord.newBuilder().setNodeId(node()));
        } else if (k < 75) {
            // Mostly a job upserted lately, so the assignment often lands and later reports can match it.
            String job = !upsertedJobs.isEmpty() && rnd.nextInt(4) != 0
                    ? upsertedJobs.get(upsertedJobs.size() - 1 - rnd.nextInt(Math.min(upsertedJobs.size(), 4)))
                    : job();
            c.setAssign(Assign.newBuilder().setJobId(job).setNodeId(node()));
            assigns.add(index);
            assignedJobs.add(job);
        } else if (k < 84) {
            int a = recentAssign();
            c.setReportStatus(ReportStatus.newBuilder().setJobId(a >= 0 ? assignedJobs.get(a) : assignedJob())
                    .setEpoch(a >= 0 ? assigns.get(a) : someEpoch())
                    .setObserved(ObservedState.forNumber(rnd.nextInt(8))).setReason("r" + rnd.nextInt(3))
                    .setExitCode(rnd.nextInt(3)));
        } else if (k < 91) {
            int a = recentAssign();
            FsDelta.Builder d = FsDelta.newBuilder().setJobId(a >= 0 ? assignedJobs.get(a) : assignedJob())
                    .setEpoch(a >= 0 ? assigns.get(a) : someEpoch());
            for (int i = rnd.nextInt(3); i >= 0; i--) {
                FileChange.Builder f = FileChange.newBuilder().setPath("/f" + rnd.nextInt(4));
                if (rnd.nextInt(4) == 0) {
                    f.setRemoved(true);
                } else {
                    byte[] data = new byte[rnd.nextInt(300)];
                    rnd.nextBytes(data);
                    f.setData(ByteString.copyFrom(data));
                }
                d.addChanges(f);
            }
            c.setFsDelta(d);
        } else if (k < 94) {
            c.setClaimWarm(ClaimWarm.newBuilder().setJobId(job()).setSpec(spec()).setWarmVmId(job()));
        } else {
            switch (rnd.nextInt(3)) {
                case 0 -> { } // no operation at all
                case 1 -> c.setUpsertVm(UpsertVm.newBuilder().setJobId("../bad/" + rnd.nextInt(3)).setSpec(spec()));
                default -> c.setUpsertVm(UpsertVm.newBuilder().setJobId(job()).setSpec(VmSpec.newBuilder().setRuntime("dos")));
            }
        }
        return c.build();
    }
}
