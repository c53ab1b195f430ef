package org.nestlm.infer;

import org.nestlm.tokenizer.TextTokenizer;

/** Turns token ids into text and back: a tokenizer as the generator and the server need it. */
public interface TokenText {

    String decode(int[] ids);

    int[] encode(String text);

    /** Adapts a Hugging Face tokenizer (ids are int in the engine, long in DJL). */
    static TokenText of(TextTokenizer t) {
        return new TokenText() {
            public String decode(int[] ids) {
                long[] l = new long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    l[i] = ids[i];
                }
                return t.decode(l);
            }

            public int[] encode(String text) {
                long[] l = t.encode(text);
                int[] ids = new int[l.length];
                for (int i = 0; i < l.length; i++) {
                    ids[i] = Math.toIntExact(l[i]);
                }
                return ids;
            }
        };
    }
}
