package dev.flotilla.statemachine;

import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ErrorCode;
import dev.flotilla.proto.Rejection;

/** Builds the rejections every replica computes alike: a code, the offending field, and what is allowed. */
public final class Reject {
    private Reject() {}

    public static Rejection of(ErrorCode code, String field, String message) {
        return Rejection.newBuilder().setCode(code).setField(field).setMessage(message).build();
    }

    public static Rejection invalid(String field, String message) {
        return of(ErrorCode.INVALID, field, message);
    }

    public static Rejection conflict(String field, String message) {
        return of(ErrorCode.CONFLICT, field, message);
    }

    public static Rejection notFound(String field, String message) {
        return of(ErrorCode.NOT_FOUND, field, message);
    }

    static CommandResult result(Rejection rejection) {
        return CommandResult.newBuilder().setRejection(rejection).build();
    }

    static CommandResult result(ErrorCode code, String field, String message) {
        return result(of(code, field, message));
    }
}
