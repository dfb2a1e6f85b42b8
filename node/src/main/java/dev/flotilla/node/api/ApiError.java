package dev.flotilla.node.api;

/** A request the API refuses: HTTP status, a short error code, the offending field, and what to do. */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String error;
    private final String field;

    public ApiError(int status, String error, String field, String message) {
        super(message);
        this.status = status;
        this.error = error;
        this.field = field;
    }

    public static ApiError badRequest(String field, String message) {
        return new ApiError(400, "invalid", field, message);
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }

    public String field() {
        return field;
    }
}
