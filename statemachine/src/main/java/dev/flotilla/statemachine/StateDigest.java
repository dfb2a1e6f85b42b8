package dev.flotilla.statemachine;

/** The registry's state digest and the log position it was taken at; equal logs give equal digests. */
public record StateDigest(String digest, long appliedIndex, long appliedTerm) {}
