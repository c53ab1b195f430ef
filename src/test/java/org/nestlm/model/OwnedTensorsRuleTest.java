package org.nestlm.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
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
        Path classes = Path.of(Tensors.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> offences = new ArrayList<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                ClassModel cm = ClassFile.of().parse(f);
                scanned++;
                if (cm.thisClass().asSymbol().equals(ClassDesc.of(Tensors.class.getName()))) {
                    continue;
                }
                for (MethodModel mm : cm.methods()) {
                    mm.code().ifPresent(code -> code.forEach(e -> {
                        if (e instanceof InvokeInstruction inv && offends(inv)) {
                            offences.add(cm.thisClass().asInternalName() + "." + mm.methodName().stringValue()
                                    + " calls " + inv.owner().asInternalName() + "." + inv.name().stringValue()
                                    + inv.typeSymbol().displayDescriptor());
                        }
                    }));
                }
            }
        }
        assertTrue(scanned > 100, "scanned only " + scanned + " classes under " + classes);
        assertEquals(List.of(), offences, "tensors over Java memory: use org.nestlm.model.Tensors");
    }

    static boolean offends(InvokeInstruction inv) {
        String owner = inv.owner().asInternalName();
        if (!owner.startsWith("ai/djl/")) {
            return false;
        }
        String name = inv.name().stringValue();
        if (owner.equals("ai/djl/ndarray/NDManager") || owner.endsWith("/PtNDManager") || owner.endsWith("/BaseNDManager")) {
            if (name.equals("create")) {
                return true;
            }
        }
        MethodTypeDesc t = inv.typeSymbol();
        if (name.equals("set") && t.parameterCount() == 1 && !t.parameterType(0).isClassOrInterface()
                || name.equals("set") && t.parameterType(0).packageName().equals("java.nio")) {
            return true;   // set(float[]) / set(Buffer) swaps the tensor's storage for a Java buffer
        }
        return !BY_VALUE.contains(name) && t.parameterList().contains(NUMBER);
    }
}
