package org.nestlm.cli;

import org.nestlm.api.ChatMessage;
import org.nestlm.api.ChatTemplate;
import org.nestlm.api.Completion;
import org.nestlm.api.Sampling;
import org.nestlm.api.TextModel;
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
 * {@code nestlm chat}: an interactive conversation in the plain chat format ({@link ChatTemplate#PLAIN}), through {@link org.nestlm.api.Nestlm}. One user message per line; reads
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
    GenerateCommand.SamplingOptions sampling;

    @picocli.CommandLine.Mixin
    GenerateCommand.Elastic elastic;

    @Mixin
    SizeOptions size;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads; 0 = one per processor (default).")
    int threads;

    @Override
    public Integer call() throws Exception {
        Sampling params = sampling.sampling();
        boolean interactive = System.console() != null;
        PrintStream out = System.out;
        try (GenerateCommand.Opened opened = elastic.open(model, tokenizer, GenerateCommand.threads(threads), size)) {
            TextModel lm = opened.model();
            if (!lm.hasTokenizer()) {
                throw new UserException(model + " has no tokenizer.json; chat needs one (pass --tokenizer FILE)");
            }
            List<ChatMessage> history = new ArrayList<>();
            if (system != null) {
                history.add(ChatMessage.system(system));
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (interactive) {
                out.println("nestlm chat: " + lm.size().id() + " (/reset, /exit)");
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
                history.add(ChatMessage.user(line));
                if (lm.encode(ChatTemplate.PLAIN.render(history)).length + 1 > lm.contextLimit()) {
                    out.println("(the conversation is longer than the context limit of " + lm.contextLimit()
                            + " tokens; /reset to start over)");
                    history.removeLast();
                    continue;
                }
                Completion c = lm.chat(history, params, ChatTemplate.PLAIN, (token, delta) -> {
                    if (delta != null) {
                        out.print(delta);
                        out.flush();
                    }
                });
                out.println();
                history.add(ChatMessage.assistant(c.text()));
            }
        }
        return 0;
    }
}
