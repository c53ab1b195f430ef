/**
 * nestlm as a library: open a Nemotron-H checkpoint, plain or elastic (many nested sizes in one set of
 * weights), list and pick its sizes, and generate, stream, chat, score and decode self-speculatively in process
 * on the pure-Java engine.
 *
 * <pre>{@code
 * try (Nestlm ckpt = Nestlm.open(Path.of("my-elastic"))) {
 *     for (Size s : ckpt.sizes()) {                            // full model and trained budgets
 *         System.out.println(s.id() + ": " + s.parameters() + " parameters, " + s.memoryBytes() + " bytes");
 *     }
 *     TextModel half = ckpt.model("50%");                      // a trained or interpolated budget
 *     TextModel fits = ckpt.model(SizeLimits.maxMemory(2L << 30)); // the largest size under limits
 *     Completion c = half.generate("The cat", Sampling.greedy(20).withStop(List.of(".")));
 *     Completion a = fits.chat(List.of(ChatMessage.user("Hello")), Sampling.defaults().withTemperature(0.7).withSeed(1L));
 *     Score s = half.score("The cat sat on the mat.");
 *     TextModel fast = ckpt.model().withDraft("50%", 4);      // the full model, drafted by its 50 % size
 * }
 * }</pre>
 *
 * <ul>
 *   <li>{@link org.nestlm.api.Nestlm}: an open checkpoint; owns the mapping, the threads and the tokenizer;
 *       {@code AutoCloseable}, thread-safe.</li>
 *   <li>{@link org.nestlm.api.TextModel}: one size, a view of the checkpoint; generate, stream, chat, score.</li>
 *   <li>{@link org.nestlm.api.Size}, {@link org.nestlm.api.SizeLimits}: what the sizes are and how to choose.</li>
 *   <li>{@link org.nestlm.api.Sampling}, {@link org.nestlm.api.Completion}, {@link org.nestlm.api.Score},
 *       {@link org.nestlm.api.ChatMessage}, {@link org.nestlm.api.ChatTemplate},
 *       {@link org.nestlm.api.TokenListener}, {@link org.nestlm.api.Speculation}: the values calls take and give.</li>
 *   <li>{@link org.nestlm.api.NestlmException}: every checked failure, naming the file or the argument at fault.</li>
 * </ul>
 * Nothing in these signatures is a type of DJL or of the engine's internals, and nothing here loads libtorch: the
 * engine, the router that resolves interpolated budgets and the size selection are pure Java.
 */
package org.nestlm.api;
