package org.nestlm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * The special tokens of tokenizers trained by nestlm, at the ids Nemotron-H configs use for pad / bos / eos
 * (0 / 1 / 2), so a trained tokenizer and a default config agree without renumbering:
 * <pre>
 *   0  &lt;|pad|&gt;        padding (never produced from text)
 *   1  &lt;|bos|&gt;        beginning of sequence
 *   2  &lt;|endoftext|&gt;  end of text: written after every document in token caches (GPT-2's name for it)
 * </pre>
 * The 256 byte tokens follow at ids 3..258, then one id per merge.
 */
public final class SpecialTokens {

    public static final String PAD = "<|pad|>";
    public static final String BOS = "<|bos|>";
    public static final String EOS = "<|endoftext|>";

    public static final int PAD_ID = 0;
    public static final int BOS_ID = 1;
    public static final int EOS_ID = 2;

    /** In id order. */
    public static final List<String> DEFAULT = List.of(PAD, BOS, EOS);

    /** End-of-text markers of common tokenizers, most specific first. */
    private static final List<String> EOS_NAMES = List.of(EOS, "</s>", "<|end_of_text|>", "<eos>", "<|eot_id|>");

    private SpecialTokens() {
    }

    /**
     * The end-of-text id of any Hugging Face tokenizer.json (ours, GPT-2's {@code <|endoftext|>}, Mistral's
     * {@code </s>}), looked up among its added tokens; empty when it has none of the usual names.
     */
    public static OptionalInt eosId(Path tokenizerJson) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(tokenizerJson + ": not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode added = root.path("added_tokens");
        for (String name : EOS_NAMES) {
            for (JsonNode t : added) {
                if (name.equals(t.path("content").asText(null)) && t.path("id").canConvertToInt()) {
                    return OptionalInt.of(t.path("id").asInt());
                }
            }
        }
        return OptionalInt.empty();
    }
}
