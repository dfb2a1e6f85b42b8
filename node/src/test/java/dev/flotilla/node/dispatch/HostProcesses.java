package dev.flotilla.node.dispatch;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The real host processes the process backend started, found by their working directory
 * ({@code <state_dir>/VM/work}): the tests check what truly runs, not what the registry says.
 */
public final class HostProcesses {
    private HostProcesses() {}

    /** VM name -> pid of every live process whose working directory is a VM's work dir under {@code stateDir}. */
    static Map<String, Long> under(Path stateDir) {
        Map<String, Long> out = new TreeMap<>();
        Path root = stateDir.toAbsolutePath().normalize();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                Path cwd;
                try {
                    cwd = Files.readSymbolicLink(p.resolve("cwd"));
                } catch (IOException | UnsupportedOperationException e) {
                    continue; // gone meanwhile, or not ours to read
                }
                if (cwd.startsWith(root) && cwd.getFileName() != null && cwd.getFileName().toString().equals("work")
                        && cwd.getParent() != null && cwd.getParent().getParent() != null
                        && cwd.getParent().getParent().equals(root)) {
                    out.put(cwd.getParent().getFileName().toString(), Long.parseLong(p.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e, e);
        }
        return out;
    }

    /** Kills (SIGKILL) every process working anywhere under {@code dir}: the VMs a killed node left behind. */
    public static void killAllUnder(Path dir) {
        Path root = dir.toAbsolutePath().normalize();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                try {
                    if (Files.readSymbolicLink(p.resolve("cwd")).startsWith(root)) {
                        ProcessHandle.of(Long.parseLong(p.getFileName().toString())).ifPresent(ProcessHandle::destroyForcibly);
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e, e);
        }
    }
}
