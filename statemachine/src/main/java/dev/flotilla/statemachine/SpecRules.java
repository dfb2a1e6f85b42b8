package dev.flotilla.statemachine;

import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.FirewallRule;
import dev.flotilla.proto.LuaProgram;
import dev.flotilla.proto.PortForward;
import dev.flotilla.proto.Rejection;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The state-independent rules for a VM spec: defaults that make equal requests equal bytes, and the
 * checks that name the offending field and say what is allowed.
 */
public final class SpecRules {
    public static final Set<String> RUNTIMES = Set.of("microvm", "libvirt", "process", "lua");
    public static final Set<String> LIFECYCLES = Set.of("service", "daemon", "job");
    public static final Set<String> HYPERVISORS = Set.of("qemu", "cloud-hypervisor", "firecracker");
    public static final int MAX_VCPU = 64;
    public static final int MIN_MEM_MB = 16;
    public static final int MAX_MEM_MB = 1_048_576;
    public static final int MAX_WARM_POOL = 64;
    public static final int DEFAULT_VCPU = 1;
    public static final int DEFAULT_MEM_MB = 256;

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private SpecRules() {}

    /** Fills the defaults and sorts env by name, so two requests meaning the same machine are equal. */
    public static VmSpec normalize(VmSpec spec) {
        VmSpec.Builder b = spec.toBuilder();
        if (b.getLifecycle().isEmpty()) {
            b.setLifecycle("service");
        }
        Resources.Builder r = b.getResources().toBuilder();
        if (r.getVcpu() == 0) {
            r.setVcpu(DEFAULT_VCPU);
        }
        if (r.getMemMb() == 0) {
            r.setMemMb(DEFAULT_MEM_MB);
        }
        b.setResources(r);
        if ("microvm".equals(b.getRuntime()) && b.getHypervisor().isEmpty()) {
            b.setHypervisor("qemu");
        }
        List<EnvVar> env = new ArrayList<>(b.getEnvList());
        env.sort(Comparator.comparing(EnvVar::getName)); // stable: equal names keep their order
        b.clearEnv().addAllEnv(env);
        for (int i = 0; i < b.getPortsCount(); i++) {
            if (b.getPorts(i).getProto().isEmpty()) {
                b.setPorts(i, b.getPorts(i).toBuilder().setProto("tcp"));
            }
        }
        for (int i = 0; i < b.getFirewallCount(); i++) {
            FirewallRule.Builder f = b.getFirewall(i).toBuilder();
            if (f.getProto().isEmpty()) {
                f.setProto("*");
            }
            if (f.getFrom().isEmpty()) {
                f.setFrom("*");
            }
            b.setFirewall(i, f);
        }
        return b.build();
    }

    /** Checks a spec (raw or normalized; defaults are applied first) and returns the first problem found. */
    public static Optional<Rejection> validate(VmSpec raw) {
        VmSpec spec = normalize(raw);
        List<Rejection> problems = new ArrayList<>();
        check(spec, problems);
        return problems.stream().findFirst();
    }

    private static void check(VmSpec s, List<Rejection> out) {
        if (s.getRuntime().isEmpty()) {
            out.add(Reject.invalid("spec.runtime", "runtime is required; allowed: " + sorted(RUNTIMES)));
            return;
        }
        if (!RUNTIMES.contains(s.getRuntime())) {
            out.add(Reject.invalid("spec.runtime", "runtime '" + Ids.printable(s.getRuntime())
                    + "' is not known; allowed: " + sorted(RUNTIMES)));
            return;
        }
        int vcpu = s.getResources().getVcpu();
        if (vcpu < 1 || vcpu > MAX_VCPU) {
            out.add(Reject.invalid("spec.resources.vcpu", "vcpu " + Integer.toUnsignedString(vcpu)
                    + " is out of range; allowed: 1.." + MAX_VCPU));
        }
        int mem = s.getResources().getMemMb();
        if (Integer.compareUnsigned(mem, MIN_MEM_MB) < 0 || Integer.compareUnsigned(mem, MAX_MEM_MB) > 0) {
            out.add(Reject.invalid("spec.resources.mem_mb", "mem_mb " + Integer.toUnsignedString(mem)
                    + " is out of range; allowed: " + MIN_MEM_MB + ".." + MAX_MEM_MB));
        }
        if (!LIFECYCLES.contains(s.getLifecycle())) {
            out.add(Reject.invalid("spec.lifecycle", "lifecycle '" + Ids.printable(s.getLifecycle())
                    + "' is not known; allowed: " + sorted(LIFECYCLES)));
        }
        int min = s.getWarmPool().getMin();
        int max = s.getWarmPool().getMax();
        if (Integer.compareUnsigned(max, MAX_WARM_POOL) > 0) {
            out.add(Reject.invalid("spec.warm_pool.max", "warm_pool.max " + Integer.toUnsignedString(max)
                    + " is too large; allowed: 0.." + MAX_WARM_POOL));
        } else if (Integer.compareUnsigned(min, max) > 0) {
            out.add(Reject.invalid("spec.warm_pool.min", "warm_pool.min " + Integer.toUnsignedString(min)
                    + " exceeds warm_pool.max " + max + "; min must be <= max"));
        }
        if (!s.getDnsName().isEmpty()) {
            dnsProblem(s.getDnsName()).ifPresent(p -> out.add(Reject.invalid("spec.dns_name", p)));
        }
        Set<String> names = new HashSet<>();
        names.add(s.getDnsName());
        for (int i = 0; i < s.getAliasesCount(); i++) {
            String alias = s.getAliases(i);
            String field = "spec.aliases[" + i + "]";
            if (s.getDnsName().isEmpty()) {
                out.add(Reject.invalid(field, "aliases are CNAMEs pointing at dns_name; set spec.dns_name first"));
                break;
            }
            Optional<String> p = dnsProblem(alias);
            if (p.isPresent()) {
                out.add(Reject.invalid(field, p.get()));
            } else if (!names.add(alias)) {
                out.add(Reject.invalid(field, "alias '" + alias + "' repeats dns_name or another alias; each name once"));
            }
        }
        if (s.getRuntime().equals("microvm") && !HYPERVISORS.contains(s.getHypervisor())) {
            out.add(Reject.invalid("spec.hypervisor", "hypervisor '" + Ids.printable(s.getHypervisor())
                    + "' is not known; allowed: " + sorted(HYPERVISORS)));
        }
        if (s.getRuntime().equals("process") && s.getCmdCount() == 0) {
            out.add(Reject.invalid("spec.cmd", "runtime 'process' needs a command: give cmd as a non-empty list"
                    + " of arguments, the program first"));
        }
        if (s.getRuntime().equals("process") && s.getCmdCount() > 0 && s.getCmd(0).isEmpty()) {
            out.add(Reject.invalid("spec.cmd[0]", "the program (cmd[0]) is empty; give the program to run"));
        }
        for (int i = 0; i < s.getCmdCount(); i++) {
            if (s.getCmd(i).indexOf('\0') >= 0) {
                out.add(Reject.invalid("spec.cmd[" + i + "]", "arguments cannot contain a NUL character"));
            }
        }
        for (String[] path : new String[][] {{"spec.rootfs", s.getRootfs()}, {"spec.kernel", s.getKernel()}}) {
            if (path[1].indexOf('\0') >= 0) {
                out.add(Reject.invalid(path[0], "paths cannot contain a NUL character"));
            }
        }
        for (int i = 0; i < s.getEnvCount(); i++) {
            EnvVar e = s.getEnv(i);
            if (!ENV_NAME.matcher(e.getName()).matches()) {
                out.add(Reject.invalid("spec.env[" + i + "].name", "env name '" + Ids.printable(e.getName())
                        + "' is not allowed; use letters, digits and '_', not starting with a digit"));
            } else if (i > 0 && s.getEnv(i - 1).getName().equals(e.getName())) {
                out.add(Reject.invalid("spec.env[" + i + "].name", "env name '" + e.getName() + "' is given twice"));
            }
            if (e.getValue().indexOf('\0') >= 0) {
                out.add(Reject.invalid("spec.env[" + i + "].value", "env values cannot contain a NUL character"));
            }
        }
        if (s.getRuntime().equals("lua")) {
            checkPrograms(s, out);
        }
        if (!s.getHostname().isEmpty() && !DNS_LABEL.matcher(s.getHostname()).matches()) {
            out.add(Reject.invalid("spec.hostname", "hostname '" + Ids.printable(s.getHostname())
                    + "' is not an RFC 1123 label; use 1..63 lowercase letters, digits and '-', not starting or ending with '-'"));
        }
        checkPorts(s, out);
        for (int i = 0; i < s.getFirewallCount(); i++) {
            FirewallRule f = s.getFirewall(i);
            String field = "spec.firewall[" + i + "]";
            if (!f.getAction().equals("allow") && !f.getAction().equals("deny")) {
                out.add(Reject.invalid(field + ".action", "action '" + Ids.printable(f.getAction())
                        + "' is not known; allowed: allow, deny"));
            }
            if (!Set.of("tcp", "udp", "*").contains(f.getProto())) {
                out.add(Reject.invalid(field + ".proto", "proto '" + Ids.printable(f.getProto())
                        + "' is not known; allowed: tcp, udp, *"));
            }
            if (Integer.compareUnsigned(f.getPort(), 65535) > 0) {
                out.add(Reject.invalid(field + ".port", "port " + Integer.toUnsignedString(f.getPort())
                        + " is out of range; allowed: 0 (any) or 1..65535"));
            }
        }
    }

    private static void checkPrograms(VmSpec s, List<Rejection> out) {
        if (s.getProgramsCount() == 0) {
            out.add(Reject.invalid("spec.programs", "runtime 'lua' needs at least one program"
                    + " ({name, source} or {name, path})"));
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < s.getProgramsCount(); i++) {
            LuaProgram p = s.getPrograms(i);
            String field = "spec.programs[" + i + "]";
            if (p.getName().isEmpty()) {
                out.add(Reject.invalid(field + ".name", "each program needs a name"));
            } else if (!seen.add(p.getName())) {
                out.add(Reject.invalid(field + ".name", "program name '" + Ids.printable(p.getName()) + "' is used twice"));
            }
            if (p.getSource().isEmpty() == p.getPath().isEmpty()) {
                out.add(Reject.invalid(field + ".source", "give exactly one of source (inline Lua) or path (a file on the node)"));
            }
        }
    }

    private static void checkPorts(VmSpec s, List<Rejection> out) {
        Set<String> hostPorts = new HashSet<>();
        for (int i = 0; i < s.getPortsCount(); i++) {
            PortForward p = s.getPorts(i);
            String field = "spec.ports[" + i + "]";
            if (p.getHost() < 1 || p.getHost() > 65535) {
                out.add(Reject.invalid(field + ".host", "host port " + Integer.toUnsignedString(p.getHost())
                        + " is out of range; allowed: 1..65535"));
            }
            if (p.getGuest() < 1 || p.getGuest() > 65535) {
                out.add(Reject.invalid(field + ".guest", "guest port " + Integer.toUnsignedString(p.getGuest())
                        + " is out of range; allowed: 1..65535"));
            }
            if (!p.getProto().equals("tcp") && !p.getProto().equals("udp")) {
                out.add(Reject.invalid(field + ".proto", "proto '" + Ids.printable(p.getProto())
                        + "' is not known; allowed: tcp, udp"));
            } else if (!hostPorts.add(p.getHost() + "/" + p.getProto())) {
                out.add(Reject.invalid(field + ".host", "host port " + p.getHost() + "/" + p.getProto()
                        + " is forwarded twice in this spec; each host port once"));
            }
        }
    }

    /** Says what is wrong with a DNS name, or nothing when it is a valid RFC 1123 name. */
    static Optional<String> dnsProblem(String name) {
        if (name.length() > 253) {
            return Optional.of("name is " + name.length() + " characters long; at most 253 are allowed");
        }
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (!DNS_LABEL.matcher(label).matches()) {
                return Optional.of("name '" + Ids.printable(name) + "' is not an RFC 1123 name: each dot-separated label is"
                        + " 1..63 lowercase letters, digits and '-', not starting or ending with '-'");
            }
        }
        return Optional.empty();
    }

    private static String sorted(Set<String> values) {
        return String.join(", ", values.stream().sorted().toList());
    }
}
