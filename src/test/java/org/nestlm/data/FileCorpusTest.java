package org.nestlm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCorpusTest {

    @TempDir
    Path dir;

    private Path write(String rel, String text) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void directoriesAreReadRecursivelyTxtOnlyInPathOrder() throws IOException {
        write("texts/b.txt", "bee");
        write("texts/a/z.txt", "zed");
        write("texts/a.txt", "ay");
        write("texts/notes.md", "ignored");
        Corpus c = Corpora.open(List.of(dir.resolve("texts").toString()), dir);
        List<String> texts = c.documents(Split.ALL).stream().map(Document::text).toList();
        assertEquals(List.of("ay", "zed", "bee"), texts);   // "a.txt" < "a/z.txt" < "b.txt" (byte order)
    }

    @Test
    void jsonlDocumentsAndPlainFilesCombine() throws IOException {
        Path j = write("d.jsonl", "{\"text\": \"caf\\u00e9 one\", \"id\": 1}\n\n{\"text\": \"two\\nlines\"}\n");
        Path t = write("x.txt", "plain ✓\n");
        Corpus c = Corpora.open(List.of(j.toString(), t.toString()), dir);
        List<Document> docs = c.documents(Split.ALL);
        assertEquals(List.of("café one", "two\nlines", "plain ✓\n"), docs.stream().map(Document::text).toList());
        assertEquals(j + ":1", docs.getFirst().name());
        assertEquals(j + ":3", docs.get(1).name(), "names carry the line number");
    }

    @Test
    void jsonlErrorsNameFileLineAndField() throws IOException {
        Path missing = write("m.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n");
        var e = assertThrows(IOException.class, () -> new FileCorpus(List.of(missing)).documents(Split.ALL));
        assertTrue(e.getMessage().contains("m.jsonl:2") && e.getMessage().contains("\"text\""), e.getMessage());

        Path wrongType = write("w.jsonl", "{\"text\": 5}\n");
        e = assertThrows(IOException.class, () -> new FileCorpus(List.of(wrongType)).documents(Split.ALL));
        assertTrue(e.getMessage().contains("w.jsonl:1") && e.getMessage().contains("string"), e.getMessage());

        Path notJson = write("n.jsonl", "{\"text\": \"a\"}\nnot json\n");
        e = assertThrows(IOException.class, () -> new FileCorpus(List.of(notJson)).documents(Split.ALL));
        assertTrue(e.getMessage().contains("n.jsonl:2"), e.getMessage());
    }

    @Test
    void nonUtf8TextIsRejectedNamingTheFile() throws IOException {
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        var e = assertThrows(IllegalArgumentException.class, () -> new FileCorpus(List.of(latin1)).documents(Split.ALL));
        assertTrue(e.getMessage().contains("latin1.txt") && e.getMessage().contains("offset 3"), e.getMessage());
    }

    @Test
    void latin1PackageFilesAreTranscoded() {
        byte[] latin1 = "Æneas — no: caf\u00e9, na\u00efve".replace("—", "-").getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("Æneas - no: café, naïve", TextDecoding.utf8OrLatin1(latin1));
        byte[] utf8 = "café ✓".getBytes(StandardCharsets.UTF_8);
        assertEquals("café ✓", TextDecoding.utf8OrLatin1(utf8), "valid UTF-8 is kept");
        assertEquals("ascii", TextDecoding.utf8OrLatin1("ascii".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("bom", TextDecoding.utf8(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'b', 'o', 'm'}, "f"));
    }

    @Test
    void missingPathsAndUnfetchedDefaultGiveClearErrors() throws IOException {
        var e = assertThrows(IOException.class,
                () -> Corpora.open(List.of(dir.resolve("nope.txt").toString()), dir).documents(Split.ALL));
        assertTrue(e.getMessage().contains("nope.txt"), e.getMessage());
        e = assertThrows(IOException.class, () -> Corpora.open(List.of("default"), dir.resolve("empty-cache")));
        assertTrue(e.getMessage().contains("nestlm data fetch"), e.getMessage());
        Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(IOException.class,
                () -> Corpora.open(List.of(dir.resolve("empty").toString()), dir).documents(Split.ALL));
        assertTrue(e.getMessage().contains("no *.txt"), e.getMessage());
    }

    @Test
    void splitsOfAFileCorpusAreDisjointAndFingerprinted() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            sb.append("sentence number ").append(i).append(".\n");
        }
        Path f = write("big.txt", sb.toString());
        Corpus c = new FileCorpus(List.of(f));
        String all = c.documents(Split.ALL).getFirst().text();
        String joined = c.documents(Split.TRAIN).getFirst().text() + c.documents(Split.VALIDATION).getFirst().text()
                + c.documents(Split.TEST).getFirst().text();
        assertEquals(all, joined);
        assertEquals(c.fingerprint(Split.TEST), new FileCorpus(List.of(f)).fingerprint(Split.TEST));
        assertNotEquals(c.fingerprint(Split.TEST), c.fingerprint(Split.VALIDATION));
        assertInstanceOf(CompositeCorpus.class, Corpora.open(List.of(f.toString(), f.toString()), dir)
                instanceof FileCorpus fc ? new CompositeCorpus(List.of(fc, fc)) : null);
        assertEquals(2, Corpora.open(List.of(f.toString(), f.toString()), dir).documents(Split.ALL).size());
    }
}
