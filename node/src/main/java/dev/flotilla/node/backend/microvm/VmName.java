package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.BackendException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A VM name checked before it reaches a command line, a unit name ({@code microvm@NAME.service}),
 * a path under the state dir, a Nix attribute and a hostname; and the mapping from Flotilla's machine
 * names (job ids: letters of either case, digits, '_', '.', '-') to such names.
 */
public final class VmName {
    private static final Pattern ALLOWED = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** What the registry accepts as a job id (statemachine Ids), the only input {@link #forMachine} maps. */
    private static final Pattern MACHINE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    /** The tail every mapped name ends with; a name that already ends so is mapped too, see forMachine. */
    private static final Pattern MAPPED_TAIL = Pattern.compile(".*-[0-9a-f]{10}");
    private static final int HASH_CHARS = 10;

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

    /**
     * The microvm.nix name of a Flotilla machine. A name that is already safe stays as it is (so what an
     * operator sees in {@code systemctl} is the job id); any other becomes a readable prefix (lower case,
     * other characters as '-') plus '-' and 10 hex digits of SHA-256 of the exact machine name, 63
     * characters at most. A safe name that itself ends in '-' and 10 hex digits is hashed as well, so a
     * kept name never equals a mapped one; two mapped names meet only if 40 bits of SHA-256 do, and the
     * backend refuses that case by the owner file it keeps beside each flake. The same input always gives
     * the same name, on every node and after a restart.
     */
    public static String forMachine(String machine) throws BackendException {
        if (machine == null || !MACHINE.matcher(machine).matches()) {
            throw new BackendException("microvm: VM name '" + machine + "' cannot be used: a name must be 1-63 "
                    + "characters of letters, digits, '_', '.' and '-', starting with a letter or digit "
                    + "(it becomes a unit name, a directory, a Nix attribute and the guest's hostname); rename the VM");
        }
        if (ALLOWED.matcher(machine).matches() && !MAPPED_TAIL.matcher(machine).matches()) {
            return machine;
        }
        String prefix = machine.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        int room = 63 - 1 - HASH_CHARS;
        if (prefix.length() > room) prefix = prefix.substring(0, room);
        return prefix + "-" + sha256(machine).substring(0, HASH_CHARS);
    }

    /** The systemd unit that runs the VM on a microvm.nix host. */
    public static String unit(String name) {
        return "microvm@" + name + ".service";
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
