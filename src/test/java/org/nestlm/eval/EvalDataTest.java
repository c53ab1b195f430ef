package org.nestlm.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.data.Split;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalDataTest {

    @TempDir
    Path dir;

    @Test
    void specs() throws Exception {
        EvalData d = EvalData.parse("default:test");
        assertEquals("default:test", d.label());
        assertEquals(Split.TEST, d.split());
        assertEquals(Split.VALIDATION, EvalData.parse("brown:valid").split());
        Path txt = Files.writeString(dir.resolve("a.txt"), "hello world\n");
        EvalData t = EvalData.parse(txt.toString());
        assertEquals(EvalData.Kind.TEXT, t.kind());
        assertEquals(Split.ALL, t.split());
        assertTrue(EvalData.parse("wikitext2:" + txt).wikitext());
        Path j = Files.writeString(dir.resolve("p.jsonl"), "{\"sentence_good\":\"a\",\"sentence_bad\":\"b\"}\n");
        assertEquals(EvalData.Kind.BLIMP, EvalData.parse(j.toString()).kind());
        assertEquals(EvalData.Kind.BLIMP, EvalData.parse(dir.toString()).kind());
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope.txt");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> EvalData.parse(missing.toString()));
        assertTrue(e.getMessage().contains(missing.toString()));
        assertThrows(IllegalArgumentException.class, () -> EvalData.parse("default:dev"));
    }
}
