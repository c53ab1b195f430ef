package org.nestlm.cli;

import org.nestlm.infer.ChatFormat;
import org.nestlm.infer.Generation;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code nestlm chat}: an interactive conversation in {@link ChatFormat}. One user message per line; reads
 * stdin to its end, so it also works in a pipe ({@code echo hi | nestlm chat --model m}).
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat with a model (one message per line; /reset starts over, /exit or end of input quits).",
        footer = {"", "Examples:", "  nestlm chat --model my-model --temperature 0.7 --top-p 0.9",
                "  printf 'Hello\\nWhat is 2+2?\\n' | nestlm chat --model my-model --max-tokens 32"})
final class ChatCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory (needs a tokenizer).")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the one in the model directory).")
    Path tokenizer;

    @Option(names = "--system", description = "System message at the start of the conversation.")
    String system;

    @Mixin
    GenerateCommand.Sampling sampling;

    @picocli.CommandLine.Mixin
    GenerateCommand.Elastic elastic;

    @Mixin
    SizeOptions size;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads; 0 = one per processor (default).")
    int threads;

    @Override
    public Integer call() throws Exception {
        SamplingParams params = sampling.params(ChatFormat.STOPS);
        boolean interactive = System.console() != null;
        PrintStream out = System.out;
        try (LanguageModel lm = elastic.open(model, tokenizer, GenerateCommand.threads(threads), size)) {
            if (!lm.hasTokenizer()) {
                throw new UserException(model + " has no tokenizer.json; chat needs one (pass --tokenizer FILE)");
            }
            List<ChatFormat.Message> history = new ArrayList<>();
            if (system != null) {
                history.add(new ChatFormat.Message("system", system));
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (interactive) {
                out.println("nestlm chat: " + lm.name() + " (/reset, /exit)");
            }
            while (true) {
                if (interactive) {
                    out.print("> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                if (line.strip().equals("/reset")) {
                    history.subList(system != null ? 1 : 0, history.size()).clear();
                    out.println("(conversation cleared)");
                    continue;
                }
                history.add(new ChatFormat.Message("user", line));
                int[] prompt = lm.text().encode(ChatFormat.render(history));
                if (prompt.length + 1 > lm.engine().contextLimit()) {
                    out.println("(the conversation is longer than the context limit of " + lm.engine().contextLimit()
                            + " tokens; /reset to start over)");
                    history.removeLast();
                    continue;
                }
                Generation g = lm.generator().generate(prompt, params, (token, delta) -> {
                    if (delta != null) {
                        out.print(delta);
                        out.flush();
                    }
                });
                out.println();
                history.add(new ChatFormat.Message("assistant", g.text()));
            }
        }
        return 0;
    }
}
