package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs VMs as microvm.nix microVMs by process calls: a flake per VM, {@code microvm -c/-u} to build
 * its runner, {@code systemctl start|stop microvm@NAME.service} to run it, and systemd's and the
 * hypervisor's own word for its status.
 */
public final class MicrovmBackend implements Backend {
    private static final int JOURNAL_LINES = 15;
    /** How long start waits for the hypervisor to say its guest runs; past it, the supervisor's polls take over. */
    private static final Duration READY_WAIT = Duration.ofSeconds(2);
    /** How often start asks the control socket meanwhile: as often as the raw boot benchmark does. */
    private static final Duration READY_POLL = Duration.ofMillis(10);
    /** How often start asks systemd meanwhile, so that a runner that died does not hold it. */
    private static final Duration READY_UNIT_CHECK = Duration.ofMillis(250);
    private static final int MAX_TAIL_CHARS = 1500;
    /** Beside flake.nix: the Flotilla machine name the VM was made for (its host name may be a mapping of it). */
    static final String OWNER_FILE = "flotilla-machine";
    private final MicrovmSettings settings;
    private final HostCommand commands;

    public MicrovmBackend(MicrovmSettings settings) {
        this.settings = settings;
        Map<String, String> env = new HashMap<>(settings.environment());
        // The real microvm command has its state dir built in; the test host's stand-in reads these.
        env.put("MICROVM_STATE_DIR", settings.stateDir().toString());
        env.put("MICROVM_GCROOTS_DIR", settings.gcRootsDir().toString());
        this.commands = new HostCommand(env);
    }

    @Override
    public String name() {
        return "microvm";
    }

    /** The directory microvm.nix keeps a VM in ({@code current}, {@code booted}, the control socket), by its host name. */
    public Path vmDir(String hostName) {
        return settings.stateDir().resolve(hostName);
    }

    /** The directory holding a VM's flake.nix and owner file, by its host name. */
    public Path flakeDir(String hostName) {
        return settings.flakeDir().resolve(hostName);
    }

    @Override
    public void create(VmInstance vm) throws BackendException {
        String name = hostName(vm.name());
        MicrovmDefinition def = MicrovmDefinition.of(new VmInstance(name, vm.spec(), vm.ip(), vm.mac(), vm.epoch()));
        Path dir = flakeDir(name);
        String flake = FlakeWriter.render(def);
        boolean changed = writeIfChanged(dir.resolve("flake.nix"), flake, name);
        writeIfChanged(dir.resolve(OWNER_FILE), vm.name() + "\n", name);
        String ref = "path:" + dir;
        if (Files.isDirectory(vmDir(name))) {
            if (changed || !Files.exists(vmDir(name).resolve("current"))) {
                // Already created from an older spec: rebuild its runner; the next start boots it.
                expectOk(microvm(List.of("-u", name), settings.commandTimeout()), name, "update");
            }
            return;
        }
        expectOk(microvm(List.of("-c", name, "-f", ref), settings.commandTimeout()), name, "create");
    }

    @Override
    public void start(VmInstance vm) throws BackendException {
        String name = hostName(vm.name());
        if (!Files.exists(vmDir(name).resolve("current/bin/microvm-run"))) {
            throw new BackendException("microvm: cannot start VM " + name + ": " + vmDir(name)
                    + "/current/bin/microvm-run does not exist, so systemd would skip the unit; create the VM first");
        }
        expectOk(systemctl(List.of("start", VmName.unit(name)), settings.commandTimeout()), name, "start");
        awaitGuest(name);
    }

    /**
     * Returns once the hypervisor answers on its control socket with anything but "still booting", as
     * {@code systemctl start} of a Type=notify unit returns once the service says it is ready; or once
     * systemd no longer says the unit runs, or after {@link #READY_WAIT}. The status read after start
     * then says running at once: asking the socket costs no process, while each status poll runs
     * {@code systemctl show}.
     */
    private void awaitGuest(String name) throws BackendException {
        long now = System.nanoTime();
        long deadline = now + READY_WAIT.toNanos();
        long unitCheck = now + READY_UNIT_CHECK.toNanos();
        while (now < deadline) {
            try {
                if (askHypervisor(name).phase() != GuestState.Phase.BOOTING) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (now >= unitCheck) {
                if (!unitStatus(name).running()) {
                    return;
                }
                unitCheck = now + READY_UNIT_CHECK.toNanos();
            }
            LockSupport.parkNanos(READY_POLL.toNanos());
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            now = System.nanoTime();
        }
    }

    @Override
    public void stop(VmInstance vm) throws BackendException {
        String name = hostName(vm.name());
        expectOk(systemctl(List.of("stop", VmName.unit(name)), settings.stopTimeout()), name, "stop");
    }

    @Override
    public void delete(VmInstance vm) throws BackendException {
        String name = hostName(vm.name());
        stop(vm);
        try {
            Path link = settings.gcRootsDir().resolve(name);
            if (Files.isSymbolicLink(link)) {
                Files.delete(link);
            }
            removeTree(vmDir(name));
            removeTree(flakeDir(name));
        } catch (IOException e) {
            throw new BackendException("microvm: VM " + name + " is stopped but removing its files failed: " + e
                    + "; remove " + vmDir(name) + ", " + flakeDir(name) + " and "
                    + settings.gcRootsDir().resolve(name) + " by hand", e);
        }
    }

    @Override
    public VmStatus status(VmInstance vm) throws BackendException {
        return status(vm.name());
    }

    /** Status by machine name, for VMs found on the host that the agent has no spec for. */
    public VmStatus status(String machine) throws BackendException {
        String name = VmName.forMachine(machine);
        Optional<String> refusal = refusal(machine, name);
        if (refusal.isPresent()) {
            return VmStatus.of(dev.flotilla.proto.ObservedState.FAILED, refusal.get());
        }
        boolean exists = Files.isDirectory(vmDir(name));
        if (!exists) {
            // The unit runs the runner in this directory (its WorkingDirectory and ConditionPathExists):
            // without it there is nothing of this VM for systemd to run, and no need to ask.
            return VmStatus.absent();
        }
        UnitStatus unit = unitStatus(name);
        Optional<GuestState> guest = Optional.empty();
        String guestError = "";
        if (unit.running()) {
            try {
                guest = Optional.of(askHypervisor(name));
            } catch (IOException e) {
                guestError = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        }
        String tail = "";
        if (unit.activeState().equals("failed") || unit.subState().equals("auto-restart")
                || guest.map(g -> g.phase() == GuestState.Phase.FAILED).orElse(false)) {
            tail = journalTail(name);
        }
        return StatusReading.read(new StatusReading.Evidence(name, exists, unit, guest, guestError, tail));
    }

    private UnitStatus unitStatus(String name) throws BackendException {
        HostCommand.Result show = systemctl(List.of("show", "-p", "ActiveState,SubState,MainPID,NRestarts",
                VmName.unit(name)), settings.commandTimeout());
        expectOk(show, name, "status");
        return UnitStatus.parse(show.stdout());
    }

    /**
     * The machines Flotilla made on this host, by their Flotilla names: state-dir entries whose
     * {@code flake} names Flotilla's own flake directory for them. An operator's own microVMs (their
     * flakes live elsewhere) are not listed, so the agent never adopts, stops or removes them.
     */
    @Override
    public List<String> list() throws BackendException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(settings.stateDir())) {
            return names;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(settings.stateDir())) {
            for (Path d : dirs) {
                String n = d.getFileName().toString();
                if (!n.startsWith(".") && Files.isDirectory(d) && madeByFlotilla(n)) {
                    names.add(owner(n).orElse(n));
                }
            }
        } catch (IOException e) {
            throw new BackendException("microvm: cannot list " + settings.stateDir() + ": " + e, e);
        }
        names.sort(String::compareTo);
        return names;
    }

    /**
     * The host name of a machine, refused before any command runs when that name on the host belongs to
     * someone else: a microVM Flotilla did not make, or (a 40-bit hash collision) another machine.
     */
    private String hostName(String machine) throws BackendException {
        String name = VmName.forMachine(machine);
        Optional<String> refusal = refusal(machine, name);
        if (refusal.isPresent()) {
            throw new BackendException(refusal.get());
        }
        return name;
    }

    private Optional<String> refusal(String machine, String name) {
        Optional<String> owner = owner(name);
        if (owner.isPresent() && !owner.get().equals(machine)) {
            return Optional.of("microvm: VM " + machine + " maps to the host name " + name + ", which VM "
                    + owner.get() + " already holds on this host (" + flakeDir(name).resolve(OWNER_FILE)
                    + "); rename one of them");
        }
        if (Files.isDirectory(vmDir(name)) && !madeByFlotilla(name)) {
            return Optional.of("microvm: a microVM named " + name + " exists in " + settings.stateDir()
                    + " but was not made by Flotilla (its flake is not " + flakeDir(name)
                    + "), so it is left alone; rename the Flotilla VM or remove that microVM (microvm.nix)");
        }
        return Optional.empty();
    }

    /** True when the VM's {@code flake} (written by {@code microvm -c}) is Flotilla's flake for it. */
    private boolean madeByFlotilla(String name) {
        Path flake = vmDir(name).resolve("flake");
        try {
            return Files.isRegularFile(flake) && Files.readString(flake).strip().equals("path:" + flakeDir(name));
        } catch (IOException e) {
            return false;
        }
    }

    /** The machine name kept beside the flake of the VM with this host name, if any. */
    private Optional<String> owner(String name) {
        Path file = flakeDir(name).resolve(OWNER_FILE);
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readString(file).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The hypervisor the built runner says it runs, then that hypervisor's answer on its socket. */
    private GuestState askHypervisor(String name) throws IOException {
        Path hv = vmDir(name).resolve("current/share/microvm/hypervisor");
        String hypervisor = Files.exists(hv) ? Files.readString(hv).strip() : "qemu";
        // microvm.nix's default microvm.socket is "${hostName}.sock" in the unit's working directory.
        Path socket = vmDir(name).resolve(name + ".sock");
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(socket + " does not exist yet");
        }
        if (hypervisor.equals("qemu")) {
            return GuestState.fromQmp(new QmpClient(socket, settings.socketTimeout()).queryStatus());
        }
        return HypervisorApi.query(hypervisor, socket, settings.socketTimeout());
    }

    /** The unit's last output lines as `systemctl status` shows them, printable characters only. */
    private String journalTail(String name) {
        try {
            HostCommand.Result st = systemctl(List.of("status", "--no-pager", "-n", Integer.toString(JOURNAL_LINES),
                    VmName.unit(name)), settings.commandTimeout());
            String out = st.stdout();
            int blank = out.indexOf("\n\n");
            String tail = blank < 0 ? "" : out.substring(blank + 2);
            tail = tail.replaceAll("\u001B\\[[0-9;?]*[A-Za-z]", "").replaceAll("[\\p{Cntrl}&&[^\n]]", "")
                    .strip().replace('\n', '|');
            return tail.length() <= MAX_TAIL_CHARS ? tail : "..." + tail.substring(tail.length() - MAX_TAIL_CHARS);
        } catch (BackendException e) {
            return "(journal unavailable: " + e.getMessage() + ")";
        }
    }

    private HostCommand.Result microvm(List<String> args, java.time.Duration timeout) throws BackendException {
        List<String> cmd = new ArrayList<>(settings.microvmCommand());
        cmd.addAll(args);
        return commands.run(cmd, timeout);
    }

    private HostCommand.Result systemctl(List<String> args, java.time.Duration timeout) throws BackendException {
        List<String> cmd = new ArrayList<>(settings.systemctlCommand());
        cmd.addAll(args);
        return commands.run(cmd, timeout);
    }

    private static void expectOk(HostCommand.Result r, String name, String what) throws BackendException {
        if (!r.ok()) {
            throw new BackendException("microvm: " + what + " of VM " + name + " failed: " + r.describe());
        }
    }

    private static boolean writeIfChanged(Path file, String text, String name) throws BackendException {
        try {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
                return false;
            }
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            throw new BackendException("microvm: cannot write the flake of VM " + name + " to " + file + ": " + e
                    + "; check that the node may write there (microvm.state_dir)", e);
        }
    }

    private static void removeTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
