package org.nestlm.io;

import org.nestlm.model.Checkpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.infer.InferTestModels;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A property-based pass over the safetensors and config readers with fixed seeds: random corruptions of a good
 * file either open (and then every tensor lies inside the data section and reads) or fail with a
 * {@link CheckpointFormatException} / {@link IOException} whose message starts with the file — never another
 * exception, never a hang.
 */
@Timeout(120)
class ReaderFuzzTest {

    @TempDir
    Path dir;

    /** Bytes JSON is made of, and a few that break it. */
    private static final byte[] ALPHABET = "{}[]\",:0123456789-+.eE ntrufalsFIBU_\\\u0000\u00ff".getBytes(StandardCharsets.ISO_8859_1);

    @Test
    void corruptedSafetensorsHeadersAreRefusedByName() throws IOException {
        Path good = dir.resolve("good.safetensors");
        SafetensorsWriter.write(good, List.of(new TensorData("a", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}),
                new TensorData("b.weight", new long[] {4}, new float[] {-1, 0, 1, 2}),
                new TensorData("c", new long[] {}, new float[] {7})), DType.BF16, java.util.Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(good);
        int headerEnd = 8 + (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        Random rnd = new Random(19);
        Path f = dir.resolve("fuzz.safetensors");
        int opened = 0, refused = 0;
        for (int iter = 0; iter < 3000; iter++) {
            byte[] b = bytes.clone();
            int edits = 1 + rnd.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int header = Math.min(headerEnd, b.length) - 8;   // header bytes left after a truncation
                int kind = rnd.nextInt(5);
                if (kind < 3 && header <= 0) {
                    kind = 4;
                }
                switch (kind) {
                    case 0 -> b[8 + rnd.nextInt(header)] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                    case 1 -> b[8 + rnd.nextInt(header)] = (byte) rnd.nextInt(256);
                    case 2 -> b[rnd.nextInt(8)] = (byte) rnd.nextInt(256);               // the header length
                    case 3 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncated
                    default -> b = java.util.Arrays.copyOf(b, b.length + 1 + rnd.nextInt(16));   // trailing bytes
                }
            }
            Files.write(f, b);
            try (SafetensorsFile s = SafetensorsFile.open(f)) {
                opened++;
                long dataBytes = Files.size(f) - 8 - s.headerBytes();
                long sum = 0;
                for (TensorEntry t : s.tensors().values()) {
                    sum += t.byteSize();
                    if (t.dtype().isFloatingPoint()) {
                        assertEquals(t.numel(), t.toFloatArray().length);
                    }
                }
                assertEquals(dataBytes, sum, "an opened file's tensors tile its data section");
            } catch (CheckpointFormatException e) {
                refused++;
                assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
                assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
            } catch (Throwable t) {
                fail("iteration " + iter + ": " + t, t);
            }
        }
        assertTrue(opened > 0 && refused > 2000, "opened " + opened + ", refused " + refused);
    }

    /** Values that have broken config readers: wrapping integers, floats, non-numbers, wrong types. */
    private static final String[] VALUES = {"0", "-1", "1", "2", "3", "7", "8", "40", "64", "2147483647", "2147483648",
            "-2147483649", "4294967296", "4294967360", "9223372036854775807", "92233720368547758070", "1e9", "1e300",
            "40.0", "40.5", "-0.0", "NaN", "Infinity", "-Infinity", "\"40\"", "\"abc\"", "true", "null", "[]", "[40]",
            "{}", "{\"__float__\": \"Infinity\"}"};

    private static final String[] KEYS = {"vocab_size", "hidden_size", "num_hidden_layers", "intermediate_size",
            "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings", "mamba_num_heads",
            "mamba_head_dim", "ssm_state_size", "n_groups", "conv_kernel", "chunk_size", "layer_norm_epsilon",
            "time_step_limit", "tie_word_embeddings", "use_bias", "use_conv_bias", "attention_bias", "mlp_bias",
            "hybrid_override_pattern", "model_type", "eos_token_id", "mamba_hidden_act"};

    @Test
    void corruptedConfigsAreRefusedByNameOrReadExactly() throws IOException {
        Path good = InferTestModels.write(dir.resolve("good"), InferTestModels.hybrid(), DType.BF16, 3);
        ObjectNode base = (ObjectNode) ConfigJson.MAPPER.readTree(good.resolve(ConfigJson.FILE_NAME).toFile());
        Path d = dir.resolve("fuzz");
        Files.createDirectories(d);
        Files.copy(good.resolve("model.safetensors"), d.resolve("model.safetensors"));
        Path cfg = d.resolve(ConfigJson.FILE_NAME);
        Random rnd = new Random(19);
        int opened = 0, refused = 0;
        for (int iter = 0; iter < 400; iter++) {
            ObjectNode o = base.deepCopy();
            List<String[]> edits = new ArrayList<>();
            for (int e = 1 + rnd.nextInt(2); e > 0; e--) {
                String key = KEYS[rnd.nextInt(KEYS.length)];
                String value = VALUES[rnd.nextInt(VALUES.length)];
                o.remove(key);
                edits.add(new String[] {key, value});
            }
            StringBuilder text = new StringBuilder(ConfigJson.MAPPER.writeValueAsString(o).trim());
            text.setLength(text.length() - 1);
            for (String[] e : edits) {
                text.append(", \"").append(e[0]).append("\": ").append(e[1]);
            }
            Files.writeString(cfg, text.append('}'));
            try (Checkpoint c = Checkpoint.open(d)) {
                opened++;
                ModelConfig m = c.config();
                // an accepted integer is the one written (no wrapping): the weights' shapes agree with it
                assertEquals(64, m.vocabSize());
                assertEquals(40, c.architecture().hiddenSize());
                assertTrue(m.maxPositionEmbeddings() > 0 && m.layerNormEpsilon() > 0);
            } catch (IOException e) {
                refused++;
                assertTrue(e.getMessage().startsWith(d.toString()), e.getMessage());
                assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
            } catch (Throwable t) {
                fail("iteration " + iter + " " + text + ": " + t, t);
            }
        }
        assertTrue(opened > 10 && refused > 200, "opened " + opened + ", refused " + refused);
    }
}
