package dev.flotilla.chaos.history;

/**
 * How an operation ended, from the client's side. UNKNOWN means the request may have been sent and
 * no definite answer came back (a timeout, a reset, a 5xx): it may or may not have taken effect.
 */
public enum Outcome {
    OK, FAIL, UNKNOWN
}
