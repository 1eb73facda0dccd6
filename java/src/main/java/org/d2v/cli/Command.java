package org.d2v.cli;

/**
 * One sub-command of {@code d2v}. Commands are found with ServiceLoader
 * (META-INF/services/org.d2v.cli.Command), so each lives in its own file.
 */
public interface Command {
    /** The word typed after {@code d2v}. */
    String name();

    /** One line for the command list. */
    String summary();

    /** Runs the command; returns the process exit code. {@code --help} must explain every option. */
    int run(String[] args) throws Exception;
}
