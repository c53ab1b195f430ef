package org.nestlm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The repository is self-contained: code, tests, tools and the README cite only the project's own {@code docs/},
 * every cited {@code docs/FILE.md §n} names a file and a section heading that exist, and {@code ../shared} appears
 * only as the default location of the optional evaluation data ({@code ../shared/data}).
 */
class DocReferencesTest {

    /** Documents that live outside the repository, by name, and paths into the shared folder other than its data. */
    static final Pattern OUTSIDE = Pattern.compile(
            "shared/docs|NEMOTRON_H_FORMAT\\.md|ELASTIC_METHOD\\.md|JAVA_STACK\\.md|DESIGN\\.md|(?<![A-Za-z_/])DATA\\.md"
                    + "|\\.\\./shared(?!/data)|/work/");

    /** A citation: {@code docs/METHOD.md §6.4}, also {@code {@code docs/ARCHITECTURE.md} §3.1}. */
    static final Pattern CITATION = Pattern.compile("docs/([A-Za-z_]+\\.md)(?:\\}?\\s*§(\\d+(?:\\.\\d+)*))?");

    static final Path ROOT = Path.of("").toAbsolutePath();

    @Test
    void nothingCitesDocumentsOutsideTheRepository() {
        List<String> offences = new ArrayList<>();
        for (Path f : scanned()) {
            String[] lines = read(f).split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                Matcher m = OUTSIDE.matcher(lines[i]);
                if (m.find()) {
                    offences.add(ROOT.relativize(f) + ":" + (i + 1) + ": " + m.group() + "  in  " + lines[i].strip());
                }
            }
        }
        assertEquals(List.of(), offences, "references to documents outside the repository (cite docs/ instead)");
    }

    @Test
    void everyCitedSectionExists() {
        List<String> broken = new ArrayList<>();
        int citations = 0;
        for (Path f : scanned()) {
            Matcher m = CITATION.matcher(read(f));
            while (m.find()) {
                citations++;
                Path doc = ROOT.resolve("docs").resolve(m.group(1));
                if (!Files.isRegularFile(doc)) {
                    broken.add(ROOT.relativize(f) + ": " + m.group() + " (no such file)");
                } else if (m.group(2) != null && !hasSection(read(doc), m.group(2))) {
                    broken.add(ROOT.relativize(f) + ": " + m.group() + " (no section " + m.group(2) + ")");
                }
            }
        }
        assertTrue(citations > 50, "expected the code to cite docs/, found " + citations + " citations");
        assertEquals(List.of(), broken, "citations of docs/ that do not resolve");
    }

    @Test
    void rulesCatchWhatTheyShould() {
        assertTrue(OUTSIDE.matcher("(NEMOTRON_H_FORMAT.md §4.2)").find());
        assertTrue(OUTSIDE.matcher("see ../shared/docs/ELASTIC_METHOD.md").find());
        assertTrue(OUTSIDE.matcher("checks DATA.md's hashes").find());
        assertTrue(OUTSIDE.matcher("../shared/bench/torch_bench.py").find());
        assertTrue(!OUTSIDE.matcher("from ../shared/data/wikitext-2/valid.txt").find());
        assertTrue(!OUTSIDE.matcher("docs/CORPORA.md §5.1").find());
        assertTrue(hasSection("## 4. Forward\n### 4.6 The chunked SSD scan\n", "4.6"));
        assertTrue(hasSection("## 4. Forward\n", "4"));
        assertTrue(!hasSection("## 4. Forward\n### 4.6 The chunked SSD scan\n", "4.7"));
        assertTrue(!hasSection("## 14. Late\n", "1"));
    }

    /** A heading {@code ## n.} or {@code ### n.m} (any depth), followed by a space or a dot. */
    static boolean hasSection(String doc, String section) {
        return Pattern.compile("(?m)^#{2,6} " + Pattern.quote(section) + "[. ]").matcher(doc).find();
    }

    /** src/main, src/test (this file aside: it names the patterns), tools/ and the README. */
    static List<Path> scanned() {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("src/main", "src/test", "tools")) {
            Path d = ROOT.resolve(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(d)) {
                s.filter(Files::isRegularFile)
                        .filter(p -> p.toString().matches(".*\\.(java|md|py)$"))
                        .filter(p -> !p.getFileName().toString().equals("DocReferencesTest.java"))
                        .sorted().forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        files.add(ROOT.resolve("README.md"));
        assertTrue(files.size() > 100, "scanned only " + files.size() + " files from " + ROOT);
        return files;
    }

    static String read(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
