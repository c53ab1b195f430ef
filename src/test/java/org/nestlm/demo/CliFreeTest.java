package org.nestlm.demo;

import org.junit.jupiter.api.Test;
import org.nestlm.ClassReferences;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo calls the stages' code, not the command-line parser: no class of the demo package, nor of any package but
 * {@code cli} itself, names a class of {@code org.nestlm.cli} (calls, fields, signatures, nested classes), read from
 * the compiled classes' constant pools as {@code LibtorchFreeTest} reads them. The dependency runs one way:
 * cli → the stages.
 */
class CliFreeTest {

    private static final String CLI = "org/nestlm/cli/";

    @Test
    void noPackageButCliReferencesTheCli() throws Exception {
        TreeMap<String, TreeSet<String>> references = references();
        TreeSet<String> offences = new TreeSet<>();
        references.forEach((c, refs) -> {
            if (!c.startsWith(CLI)) {
                refs.stream().filter(r -> r.startsWith(CLI)).forEach(r -> offences.add(c + " -> " + r));
            }
        });
        assertTrue(references.containsKey("org/nestlm/demo/Demo"), "the scan reads the demo's classes");
        assertTrue(references.keySet().stream().filter(c -> c.startsWith("org/nestlm/demo/")).count() > 5,
                "the scan reads the whole demo package");
        // the scan sees references across packages: the demo command names the demo
        assertTrue(references.get("org/nestlm/cli/DemoCommand").contains("org/nestlm/demo/Demo"),
                "the scan finds cli's references to the demo");
        assertEquals(List.of(), List.copyOf(offences), "classes outside cli that refer to the command line");
    }

    /** Every compiled nestlm class (internal name) with the classes its constant pool names. */
    private static TreeMap<String, TreeSet<String>> references() throws IOException, URISyntaxException {
        Path root = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        TreeMap<String, TreeSet<String>> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root.resolve("org/nestlm"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = root.relativize(f).toString().replace('\\', '/');
                name = name.substring(0, name.length() - ".class".length());
                out.put(name, ClassReferences.of(Files.readAllBytes(f), name));
            }
        }
        return out;
    }
}
