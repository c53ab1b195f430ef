package org.nestlm.tokenizer;

import org.nestlm.data.Corpus;

/**
 * The JSON sidecar of a token cache file ({@code <key>.json} next to {@code <key>.ids}).
 *
 * @param format            layout version of the cache, {@link TokenCache#FORMAT}
 * @param key               the cache key, also the file name
 * @param corpus            human description of the corpus
 * @param split             train, validation, test or all
 * @param corpusFingerprint SHA-256 of the split's text ({@link Corpus#fingerprint})
 * @param tokenizer         path of the tokenizer.json used (informational; the hash is what counts)
 * @param tokenizerSha256   SHA-256 of that tokenizer.json
 * @param tokens            number of ids in the .ids file, separators included
 * @param documents         documents (document parts) encoded
 * @param bytes             UTF-8 bytes of the text encoded
 * @param separatorId       id written after every document (the tokenizer's end-of-text), or -1 for none
 */
public record TokenCacheInfo(int format, String key, String corpus, String split, String corpusFingerprint,
                             String tokenizer, String tokenizerSha256, long tokens, long documents, long bytes,
                             int separatorId) {

    /** Text tokens only: {@link #tokens()} minus the separators. */
    public long textTokens() {
        return separatorId >= 0 ? tokens - documents : tokens;
    }

    /** UTF-8 bytes per text token, the compression of the tokenizer on this text. */
    public double bytesPerToken() {
        return textTokens() == 0 ? Double.NaN : (double) bytes / textTokens();
    }
}
