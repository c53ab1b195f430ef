package org.nestlm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nestlm elastic}: tools for the elastic search space. */
@Command(name = "elastic", mixinStandardHelpOptions = true, description = "Elastic search space tools.",
        subcommands = {ElasticPlanCommand.class, CommandLine.HelpCommand.class})
final class ElasticCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
