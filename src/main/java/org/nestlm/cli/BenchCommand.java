package org.nestlm.cli;

import org.nestlm.cli.bench.DecodeBenchCommand;
import org.nestlm.cli.bench.ServeBenchCommand;
import org.nestlm.cli.bench.TrainBenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nestlm bench}: performance measurements (no assertions; numbers to compare and report). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks of the pure-Java engine and server.",
        subcommands = {DecodeBenchCommand.class, ServeBenchCommand.class, TrainBenchCommand.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
