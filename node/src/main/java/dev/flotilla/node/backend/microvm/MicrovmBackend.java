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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs VMs as microvm.nix microVMs by process calls: a flake per VM, {@code microvm -c/-u} to build
 * its runner, {@code systemctl start|stop microvm@NAME.service} to run it, and systemd's and the
 * hypervisor's own word for its status.
 */
public final class MicrovmBackend implements Backend {
    private static final int JOURNAL_LINES = 15;
    private static final int MAX_TAIL_CHARS = 1500;
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

    /** The directory microvm.nix keeps the VM in ({@code current}, {@code booted}, the control socket). */
    public Path vmDir(String name) {
        return settings.stateDir().resolve(name);
    }

    /** The directory holding the VM's flake.nix. */
    public Path flakeDir(String name) {
        return settings.flakeDir().resolve(name);
    }

    @Override
    public void create(VmInstance vm) throws BackendException {
        MicrovmDefinition def = MicrovmDefinition.of(vm);
        String name = def.name();
        Path dir = flakeDir(name);
        String flake = FlakeWriter.render(def);
        boolean changed = writeIfChanged(dir.resolve("flake.nix"), flake, name);
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
        String name = VmName.check(vm.name());
        if (!Files.exists(vmDir(name).resolve("current/bin/microvm-run"))) {
            throw new BackendException("microvm: cannot start VM " + name + ": " + vmDir(name)
                    + "/current/bin/microvm-run does not exist, so systemd would skip the unit; create the VM first");
        }
        expectOk(systemctl(List.of("start", VmName.unit(name)), settings.commandTimeout()), name, "start");
    }

    @Override
    public void stop(VmInstance vm) throws BackendException {
        String name = VmName.check(vm.name());
        expectOk(systemctl(List.of("stop", VmName.unit(name)), settings.stopTimeout()), name, "stop");
    }

    @Override
    public void delete(VmInstance vm) throws BackendException {
        String name = VmName.check(vm.name());
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
        String name = VmName.check(vm.name());
        return status(name);
    }

    /** Status by name, for VMs found on the host that the agent has no spec for. */
    public VmStatus status(String name) throws BackendException {
        HostCommand.Result show = systemctl(List.of("show", "-p", "ActiveState,SubState,MainPID,NRestarts",
                VmName.unit(name)), settings.commandTimeout());
        expectOk(show, name, "status");
        UnitStatus unit = UnitStatus.parse(show.stdout());
        boolean exists = Files.isDirectory(vmDir(name));
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

    @Override
    public List<String> list() throws BackendException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(settings.stateDir())) {
            return names;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(settings.stateDir())) {
            for (Path d : dirs) {
                String n = d.getFileName().toString();
                if (!n.startsWith(".") && Files.isDirectory(d) && Files.exists(d.resolve("flake"))) {
                    names.add(n);
                }
            }
        } catch (IOException e) {
            throw new BackendException("microvm: cannot list " + settings.stateDir() + ": " + e, e);
        }
        names.sort(String::compareTo);
        return names;
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
