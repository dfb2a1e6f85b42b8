package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.BackendException;
import java.util.regex.Pattern;

/**
 * A VM name checked before it reaches a command line, a unit name ({@code microvm@NAME.service}),
 * a path under the state dir, a Nix attribute and a hostname.
 */
public final class VmName {
    private static final Pattern ALLOWED = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private VmName() {}

    /** Returns the name if it is safe everywhere it is used, otherwise says what is allowed. */
    public static String check(String name) throws BackendException {
        if (name == null || !ALLOWED.matcher(name).matches()) {
            throw new BackendException("microvm: VM name '" + name + "' cannot be used: a name must be 1-63 "
                    + "characters of a-z, 0-9 and '-', starting with a letter or digit (it becomes a unit "
                    + "name, a directory, a Nix attribute and the guest's hostname); rename the VM");
        }
        return name;
    }

    /** The systemd unit that runs the VM on a microvm.nix host. */
    public static String unit(String name) {
        return "microvm@" + name + ".service";
    }
}
