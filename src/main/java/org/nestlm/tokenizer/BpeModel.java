package org.nestlm.tokenizer;

import java.util.List;

/**
 * A trained byte-level BPE vocabulary: what {@link TokenizerJson} writes and {@link BpeEncoder} runs.
 *
 * @param tokens   token strings by id: the special tokens as written, every other token in GPT-2's
 *                 byte-to-character form ({@link ByteLevel})
 * @param merges   the merges in rank order (rank 0 applies first)
 * @param specials how many leading ids are special tokens
 */
public record BpeModel(List<String> tokens, List<Merge> merges, int specials) {

    /** Merging the adjacent tokens {@code left} and {@code right} gives token {@code result}. */
    public record Merge(int left, int right, int result) {
    }

    public BpeModel {
        tokens = List.copyOf(tokens);
        merges = List.copyOf(merges);
        if (specials < 0 || specials + 256 > tokens.size()) {
            throw new IllegalArgumentException("a byte-level vocabulary needs the 256 byte tokens after "
                    + specials + " special tokens, but has " + tokens.size() + " tokens");
        }
    }

    public int vocabSize() {
        return tokens.size();
    }

    /** The id of the token for a single byte. */
    public int byteId(int b) {
        return specials + (b & 0xff);
    }
}
