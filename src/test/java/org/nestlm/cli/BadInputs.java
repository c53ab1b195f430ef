package org.nestlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.io.SafetensorsFile;
import org.nestlm.io.TensorEntry;
import org.nestlm.model.ConfigJson;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A generator of broken inputs for the bad-input corpus: each {@link Case} copies a good (elastic) checkpoint and
 * breaks one thing in it — a {@code config.json} field, a tensor's dtype, values or bytes, the safetensors layout,
 * an {@code elastic.json} field, the router weights — and says which fragments the error must name.
 */
final class BadInputs {

    private BadInputs() {
    }

    /** Which commands see the fault: the weights and config (any command) or the elastic metadata (at a budget). */
    enum Scope { CHECKPOINT, ELASTIC, INTERPOLATED }

    /**
     * One broken checkpoint.
     *
     * @param name      shown in the test report
     * @param scope     which command lines reach the fault
     * @param breakIt   turns a copy of the good checkpoint into the broken one
     * @param fragments what the one-line error must contain (the file and the field or tensor)
     */
    record Case(String name, Scope scope, Breaker breakIt, List<String> fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Breaks the checkpoint in {@code dir} (a copy). */
    interface Breaker {
        void apply(Path dir) throws IOException;
    }

    static Case checkpoint(String name, Breaker b, String... fragments) {
        return new Case(name, Scope.CHECKPOINT, b, List.of(fragments));
    }

    static Case elastic(String name, Breaker b, String... fragments) {
        return new Case(name, Scope.ELASTIC, b, List.of(fragments));
    }

    // ---- files ----

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    /** Replaces {@code file} by a FIFO; false where {@code mkfifo} is unavailable. */
    static boolean fifo(Path file) throws IOException {
        Files.deleteIfExists(file);
        try {
            Process p = new ProcessBuilder("mkfifo", file.toString()).redirectErrorStream(true).start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ---- JSON files ----

    /** Edits a JSON file in place (config.json, elastic.json). */
    static Breaker json(String file, Consumer<ObjectNode> edit) {
        return dir -> {
            Path f = dir.resolve(file);
            ObjectNode o = (ObjectNode) ConfigJson.MAPPER.readTree(f.toFile());
            edit.accept(o);
            Files.writeString(f, ConfigJson.MAPPER.writeValueAsString(o));
        };
    }

    /** Sets one config.json field to a raw JSON literal (so 4294967360, 1e9 and NaN stay as written). */
    static Breaker configField(String key, String rawJson) {
        return dir -> {
            Path f = dir.resolve(ConfigJson.FILE_NAME);
            ObjectNode o = (ObjectNode) ConfigJson.MAPPER.readTree(f.toFile());
            o.remove(key);
            String text = ConfigJson.MAPPER.writeValueAsString(o).trim();
            Files.writeString(f, text.substring(0, text.length() - 1) + ", \"" + key + "\": " + rawJson + "}");
        };
    }

    static Breaker elasticJson(Consumer<ObjectNode> edit) {
        return json(ElasticJson.FILE_NAME, edit);
    }

    static JsonNode at(ObjectNode o, String... path) {
        JsonNode n = o;
        for (String p : path) {
            n = n.get(p);
        }
        return n;
    }

    static ArrayNode array(ObjectNode o, String... path) {
        return (ArrayNode) at(o, path);
    }

    static ObjectNode object(ObjectNode o, String... path) {
        return (ObjectNode) at(o, path);
    }

    // ---- safetensors ----

    /** One tensor as raw bytes, with its header dtype string. */
    record Raw(String name, String dtype, long[] shape, byte[] bytes) {
        Raw withBytes(String newDtype, byte[] b) {
            return new Raw(name, newDtype, shape, b);
        }
    }

    /** How the data section is laid out when written. */
    enum Layout { CONTIGUOUS, HOLE_BEFORE_LAST, LAST_OVERLAPS, TRAILING_BYTES }

    static List<Raw> read(Path file) throws IOException {
        List<Raw> out = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorEntry e : f.tensors().values()) {
                out.add(new Raw(e.name(), e.dtype().name(), e.shape(), e.data().toArray(ValueLayout.JAVA_BYTE)));
            }
        }
        return out;
    }

    static void write(Path file, List<Raw> tensors, Layout layout) throws IOException {
        ObjectNode header = ConfigJson.MAPPER.createObjectNode();
        long at = 0;
        int last = tensors.size() - 1;
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < tensors.size(); i++) {
            Raw r = tensors.get(i);
            if (i == last && layout == Layout.HOLE_BEFORE_LAST) {
                data.write(new byte[64]);
                at += 64;
            }
            long begin = at;
            if (i == last && layout == Layout.LAST_OVERLAPS) {
                begin -= 4;   // shares the previous tensor's last 4 bytes; the data section is 4 bytes shorter
                byte[] d = data.toByteArray();
                data.reset();
                data.write(d, 0, d.length - 4);
            }
            ObjectNode e = header.putObject(r.name());
            e.put("dtype", r.dtype());
            ArrayNode s = e.putArray("shape");
            for (long d : r.shape()) {
                s.add(d);
            }
            e.putArray("data_offsets").add(begin).add(begin + r.bytes().length);
            data.write(r.bytes());
            at = begin + r.bytes().length;
        }
        if (layout == Layout.TRAILING_BYTES) {
            data.write(new byte[64]);
        }
        byte[] json = ConfigJson.MAPPER.writeValueAsString(header).replace("\n", "").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length);
        try (var out = Files.newOutputStream(file)) {
            out.write(b.array());
            out.write(json);
            data.writeTo(out);
        }
    }

    /** Rewrites {@code model.safetensors} through {@code edit}, laid out as {@code layout}. */
    static Breaker weights(Layout layout, UnaryOperator<List<Raw>> edit) {
        return dir -> {
            Path f = dir.resolve("model.safetensors");
            List<Raw> t = new ArrayList<>(read(f));
            write(f, edit.apply(t), layout);
        };
    }

    static Breaker weights(UnaryOperator<List<Raw>> edit) {
        return weights(Layout.CONTIGUOUS, edit);
    }

    /** Replaces the tensor called {@code name} through {@code change}. */
    static UnaryOperator<List<Raw>> tensor(String name, UnaryOperator<Raw> change) {
        return list -> {
            List<Raw> out = new ArrayList<>();
            boolean found = false;
            for (Raw r : list) {
                if (r.name().equals(name)) {
                    found = true;
                    Raw c = change.apply(r);
                    if (c != null) {
                        out.add(c);
                    }
                } else {
                    out.add(r);
                }
            }
            if (!found) {
                throw new IllegalStateException("no tensor " + name);
            }
            return out;
        };
    }

    /** Sets the 16-bit element {@code index} of a BF16 tensor to {@code bits}. */
    static UnaryOperator<Raw> bf16At(int index, int bits) {
        return r -> {
            byte[] b = r.bytes().clone();
            b[2 * index] = (byte) bits;
            b[2 * index + 1] = (byte) (bits >>> 8);
            return r.withBytes(r.dtype(), b);
        };
    }

    /** Sets every 32-bit element of an F32 tensor to NaN. */
    static byte[] allNaN32(int bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            b.putFloat(Float.NaN);
        }
        return b.array();
    }

    /** The values of a BF16 tensor re-encoded as {@code dtype} (I32 / F64), same shape. */
    static UnaryOperator<Raw> recode(String dtype) {
        return r -> {
            int n = r.bytes().length / 2;
            ByteBuffer in = ByteBuffer.wrap(r.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer out = ByteBuffer.allocate(n * (dtype.equals("F64") ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                float v = Float.intBitsToFloat((in.getShort() & 0xFFFF) << 16);
                if (dtype.equals("F64")) {
                    out.putDouble(v);
                } else {
                    out.putInt(Math.round(v));
                }
            }
            return r.withBytes(dtype, out.array());
        };
    }

    static void unchecked(Breaker b, Path dir) {
        try {
            b.apply(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
