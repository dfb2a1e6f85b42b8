package dev.flotilla.node.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machines this node's agent has made, kept in a file under the node's data dir. After a restart
 * the agent removes a machine the registry no longer gives it only if the ledger lists it: a host may
 * also run VMs of its own (an operator's microvm.nix guests, other libvirt domains), and those are
 * never the agent's to delete.
 */
final class Ledger {
    private static final Logger LOG = LoggerFactory.getLogger("agent");

    private final Path file;
    private final Set<String> entries = new TreeSet<>();

    Ledger(Path file) {
        this.file = file;
        try {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (!line.isBlank()) entries.add(line.strip());
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot read the agent's ledger {} ({}); machines left from before are not removed", file, e.toString());
        }
    }

    private static String key(String backend, String machine) {
        return backend + " " + machine;
    }

    boolean contains(String backend, String machine) {
        return entries.contains(key(backend, machine));
    }

    void add(String backend, String machine) {
        if (entries.add(key(backend, machine))) save();
    }

    void remove(String backend, String machine) {
        if (entries.remove(key(backend, machine))) save();
    }

    // Written whole and renamed into place: a crash leaves the old or the new ledger, never half of one.
    private void save() {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, String.join("\n", entries) + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.warn("cannot write the agent's ledger {} ({}); after a restart such machines may be left running", file, e.toString());
        }
    }
}
