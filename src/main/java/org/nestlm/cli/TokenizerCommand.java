package org.nestlm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nestlm tokenizer}: train a byte-level BPE tokenizer. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE tokenizer (Hugging Face tokenizer.json).",
        subcommands = {TokenizerTrainCommand.class})
final class TokenizerCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
