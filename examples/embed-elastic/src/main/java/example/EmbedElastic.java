package example;

import org.nestlm.api.ChatMessage;
import org.nestlm.api.Completion;
import org.nestlm.api.Nestlm;
import org.nestlm.api.NestlmException;
import org.nestlm.api.Sampling;
import org.nestlm.api.Size;
import org.nestlm.api.TextModel;

import java.nio.file.Path;
import java.util.List;

/** Embeds an elastic checkpoint and answers one question at two of its nested sizes, from one copy of the weights. */
public final class EmbedElastic {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "demo/elastic");
        try (Nestlm ckpt = Nestlm.open(dir)) {
            for (Size s : ckpt.sizes()) {
                System.out.printf("%-16s %-8s %,12d parameters  %,14d bytes%n", s.id(), s.kind(), s.parameters(), s.memoryBytes());
            }
            List<Size> sizes = ckpt.sizes();
            TextModel large = ckpt.model();                                         // the full model
            TextModel small = ckpt.model(sizes.getLast().budget());                 // the smallest trained budget
            // or by limits: ckpt.model(SizeLimits.maxMemory(1L << 30)), or any budget in the trained range: ckpt.model("60%")
            List<ChatMessage> question = List.of(ChatMessage.user("What did the cat do?"));
            Sampling sampling = Sampling.greedy(40);
            for (TextModel m : List.of(large, small)) {
                Completion c = m.chat(question, sampling);
                System.out.printf("%n[%s, %,d parameters] %s%n  (%d tokens, %s, %.0f tokens/s)%n", c.size(),
                        m.size().parameters(), c.text().strip(), c.tokens().length, c.finish().openAi(), c.decodePerSecond());
            }
        } catch (NestlmException e) {
            System.err.println("embed-elastic: " + e.getMessage());
            System.exit(2);
        }
    }
}
