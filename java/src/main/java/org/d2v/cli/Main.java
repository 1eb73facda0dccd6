package org.d2v.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The {@code d2v} command: one picocli command per sub-command, each in its own file. */
@Command(name = "d2v", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = "data2vec 2.0 on the JVM: pretrain on images, speech and text, probe, fine-tune, and move weights to and from fairseq.",
        footer = {"", "d2v <command> --help explains every option of a command."},
        subcommands = {CommandLine.HelpCommand.class, InfoCommand.class, DataCommand.class, PretrainCommand.class, ProbeCommand.class,
                FinetuneCommand.class, DemoCommand.class, ExportCommand.class, ImportCommand.class})
public final class Main implements Callable<Integer> {
    @Spec CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The whole command tree, configured as every d2v command is. */
    static CommandLine commandLine() { return Cli.configure(new CommandLine(new Main())); }

    /** {@code d2v} alone: the list of commands. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return Cli.OK;
    }
}
