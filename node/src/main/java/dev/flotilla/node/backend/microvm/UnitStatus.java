package dev.flotilla.node.backend.microvm;

import java.util.HashMap;
import java.util.Map;

/**
 * What systemd says of {@code microvm@NAME.service}: the four properties of
 * {@code systemctl show -p ActiveState,SubState,MainPID,NRestarts}.
 */
public record UnitStatus(String activeState, String subState, long mainPid, int nRestarts) {

    /** Parses {@code Key=Value} lines in any order; missing keys read as an inactive unit. */
    public static UnitStatus parse(String showOutput) {
        Map<String, String> props = new HashMap<>();
        for (String line : showOutput.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                props.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return new UnitStatus(
                props.getOrDefault("ActiveState", "inactive"),
                props.getOrDefault("SubState", "dead"),
                number(props.get("MainPID")),
                (int) number(props.get("NRestarts")));
    }

    private static long number(String value) {
        if (value == null || value.isEmpty() || value.equals("[not set]")) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public boolean running() {
        return activeState.equals("active") && subState.equals("running");
    }

    public boolean inactive() {
        return activeState.equals("inactive");
    }

    @Override
    public String toString() {
        return "ActiveState=" + activeState + " SubState=" + subState + " MainPID=" + mainPid
                + " NRestarts=" + nRestarts;
    }
}
