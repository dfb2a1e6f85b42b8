package dev.flotilla.node.backend;

/** A backend operation that failed; the message names the VM, the command, and its stderr. */
public class BackendException extends Exception {
    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
