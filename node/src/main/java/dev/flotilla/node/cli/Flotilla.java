package dev.flotilla.node.cli;

/** The one `flotilla` command: entry point of the daemon and the CLI. */
public final class Flotilla {
    public static void main(String[] args) {
        System.out.println("flotilla: skeleton");
    }
}
