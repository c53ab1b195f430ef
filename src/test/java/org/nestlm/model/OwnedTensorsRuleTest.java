package org.nestlm.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.FieldRefEntry;
import java.lang.classfile.constantpool.MemberRefEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The owned-memory rule (docs/REPRODUCIBILITY.md), checked on the compiled main classes: outside {@link Tensors}
 * no code calls {@code NDManager.create} (it wraps Java memory without copying), {@code NDArray.set} with Java
 * data (it swaps the tensor's storage for a Java buffer), nor any DJL method that takes a {@link Number} (DJL turns the number into such a tensor and frees it right after the call, while autograd may
 * still need it for the backward pass). Values travel into libtorch only through {@link Tensors}.
 */
class OwnedTensorsRuleTest {

    private static final ClassDesc NUMBER = ClassDesc.of("java.lang.Number");
    /** DJL methods taking a Number that hand it to libtorch by value (no tensor over Java memory). */
    private static final Set<String> BY_VALUE = Set.of("clip");

    @Test
    void noJavaMemoryTensorOutsideTensors() throws IOException, URISyntaxException {
        List<String> offences = new ArrayList<>();
        int scanned = 0;
        // the main classes and the tests' own: a test that builds tensors over Java memory computes wrong gradients too
        for (Class<?> anchor : List.of(Tensors.class, OwnedTensorsRuleTest.class)) {
            Path classes = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                    ClassModel cm = ClassFile.of().parse(f);
                    scanned++;
                    String name = cm.thisClass().asInternalName();
                    if (name.equals(Tensors.class.getName().replace('.', '/')) || name.startsWith(
                            OwnedTensorsRuleTest.class.getName().replace('.', '/'))) {
                        continue;
                    }
                    // every method a class refers to is in its constant pool: direct calls and method references alike
                    for (PoolEntry e : cm.constantPool()) {
                        if (e instanceof MemberRefEntry ref && !(e instanceof FieldRefEntry)
                                && offends(ref.owner().asInternalName(), ref.name().stringValue(),
                                MethodTypeDesc.ofDescriptor(ref.type().stringValue()))) {
                            offences.add(name + " uses " + ref.owner().asInternalName() + "."
                                    + ref.name().stringValue() + ref.type().stringValue());
                        }
                    }
                }
            }
        }
        assertTrue(scanned > 100, "scanned only " + scanned + " classes");
        assertEquals(List.of(), offences, "tensors over Java memory: use org.nestlm.model.Tensors");
    }

    static boolean offends(String owner, String name, MethodTypeDesc t) {
        if (!owner.startsWith("ai/djl/")) {
            return false;
        }
        if (owner.equals("ai/djl/ndarray/NDManager") || owner.endsWith("/PtNDManager") || owner.endsWith("/BaseNDManager")) {
            if (name.equals("create")) {
                return true;
            }
        }
        if (name.equals("set") && t.parameterCount() == 1
                && (!t.parameterType(0).isClassOrInterface() || t.parameterType(0).packageName().equals("java.nio"))) {
            return true;   // set(float[]) / set(Buffer) swaps the tensor's storage for a Java buffer
        }
        return !BY_VALUE.contains(name) && t.parameterList().contains(NUMBER);
    }

    @Test
    void theRuleTellsJavaMemoryFromOwnedMemory() {
        String array = "ai/djl/ndarray/NDArray", manager = "ai/djl/ndarray/NDManager";
        assertTrue(offends(array, "mul", MethodTypeDesc.ofDescriptor("(Ljava/lang/Number;)Lai/djl/ndarray/NDArray;")));
        assertTrue(offends(array, "set", MethodTypeDesc.ofDescriptor("([F)V")));
        assertTrue(offends(array, "set", MethodTypeDesc.ofDescriptor("(Ljava/nio/Buffer;)V")));
        assertTrue(offends(manager, "create", MethodTypeDesc.ofDescriptor("([FLai/djl/ndarray/types/Shape;)Lai/djl/ndarray/NDArray;")));
        assertFalse(offends(array, "mul", MethodTypeDesc.ofDescriptor("(Lai/djl/ndarray/NDArray;)Lai/djl/ndarray/NDArray;")));
        assertFalse(offends(array, "clip", MethodTypeDesc.ofDescriptor("(Ljava/lang/Number;Ljava/lang/Number;)Lai/djl/ndarray/NDArray;")));
        assertFalse(offends(array, "set", MethodTypeDesc.ofDescriptor("(Lai/djl/ndarray/index/NDIndex;Lai/djl/ndarray/NDArray;)V")));
        assertFalse(offends(manager, "zeros", MethodTypeDesc.ofDescriptor("(Lai/djl/ndarray/types/Shape;)Lai/djl/ndarray/NDArray;")));
    }
}
