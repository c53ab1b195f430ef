package org.nestlm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every package under src/main/java/org/nestlm that holds classes says its role in a package-info.java. */
class PackageInfoTest {

    @Test
    void everyPackageHasPackageInfo() throws IOException {
        Path root = Path.of("src/main/java/org/nestlm").toAbsolutePath();
        List<String> missing = new ArrayList<>();
        int packages = 0;
        try (Stream<Path> dirs = Files.walk(root)) {
            for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                boolean hasClasses;
                try (Stream<Path> files = Files.list(d)) {
                    hasClasses = files.anyMatch(f -> f.toString().endsWith(".java")
                            && !f.getFileName().toString().equals("package-info.java"));
                }
                if (!hasClasses) {
                    continue;
                }
                packages++;
                Path info = d.resolve("package-info.java");
                if (!Files.isRegularFile(info) || !Files.readString(info).contains("/**")) {
                    missing.add(root.relativize(d).toString());
                }
            }
        }
        assertTrue(packages >= 10, "found only " + packages + " packages under " + root);
        assertEquals(List.of(), missing, "packages without a documented package-info.java");
    }
}
