package dev.flotilla.statemachine;

import dev.flotilla.proto.Rejection;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks the names that reach command lines, systemd unit names and tap device names: job ids,
 * tenants and node ids. A strict alphabet keeps them safe as file names and process arguments.
 */
public final class Ids {
    /** Longest accepted id; 63 also keeps ids usable as DNS labels. */
    public static final int MAX_LENGTH = 63;

    private static final Pattern SHAPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    private Ids() {}

    public static Optional<Rejection> validateJobId(String id) {
        return validate("job_id", "job id", id);
    }

    public static Optional<Rejection> validateTenant(String tenant) {
        return validate("tenant", "tenant", tenant);
    }

    public static Optional<Rejection> validateNodeId(String id) {
        return validate("node_id", "node id", id);
    }

    static Optional<Rejection> validate(String field, String what, String value) {
        if (value == null || value.isEmpty()) {
            return Optional.of(Reject.invalid(field, what + " is empty; give 1.." + MAX_LENGTH
                    + " characters of letters, digits, '_', '.' or '-', starting with a letter or digit"));
        }
        if (value.length() > MAX_LENGTH) {
            return Optional.of(Reject.invalid(field, what + " is " + value.length() + " characters long; at most "
                    + MAX_LENGTH + " are allowed"));
        }
        if (!SHAPE.matcher(value).matches()) {
            return Optional.of(Reject.invalid(field, what + " '" + printable(value) + "' has a character that is not allowed;"
                    + " use letters, digits, '_', '.' or '-', starting with a letter or digit"));
        }
        return Optional.empty();
    }

    /** Echoes user input in messages without control characters that would garble a log line. */
    static String printable(String value) {
        StringBuilder out = new StringBuilder();
        value.codePoints().limit(80).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f) {
                out.append(String.format("\\x%02x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return value.codePointCount(0, value.length()) > 80 ? out + "..." : out.toString();
    }
}
