package dev.flotilla.chaos.nemesis;

/** A fault could not be injected or healed as intended: the run is then not a valid test. */
public final class NemesisError extends RuntimeException {
    public NemesisError(String message) {
        super(message);
    }
}
