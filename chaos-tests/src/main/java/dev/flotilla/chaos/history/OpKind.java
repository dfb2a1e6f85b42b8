package dev.flotilla.chaos.history;

/** What a client asked a node to do to one VM. */
public enum OpKind {
    CREATE, START, STOP, DELETE, READ
}
