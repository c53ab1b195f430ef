package org.nestlm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nestlm data}: the default corpus and token caches. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Fetch the default corpus, show corpus sizes, build token caches.",
        subcommands = {DataFetchCommand.class, DataInfoCommand.class, DataTokensCommand.class})
final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
