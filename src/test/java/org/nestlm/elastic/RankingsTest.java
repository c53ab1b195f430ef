package org.nestlm.elastic;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.Architecture;
import org.nestlm.model.TestModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rankings.json: round trip, strict reading and validation messages that name the file and the field. */
class RankingsTest {

    @TempDir
    Path dir;

    static final Architecture ARCH = Architecture.fromConfig(TestModels.hybrid());

    @Test
    void roundTripThroughAFile() throws IOException {
        Rankings r = RankingsTestData.random(ARCH, 3);
        Path f = dir.resolve(RankingsJson.FILE);
        RankingsJson.write(f, r);
        Rankings back = RankingsJson.read(f).validate(ARCH, f.toString());
        assertEquals(RankingsJson.toJson(r), RankingsJson.toJson(back));
        assertArrayEquals(r.hidden().order(), back.hidden().order());
        assertArrayEquals(r.mambaHeadOrder(0), back.mambaHeadOrder(0));
        assertArrayEquals(r.attentionHeadOrder(1), back.attentionHeadOrder(1));
        assertEquals(r.calibration(), back.calibration());
        String text = Files.readString(f);
        assertTrue(text.contains("\"kind\" : \"mamba\"") && text.contains("\"kind\" : \"attention\"")
                && text.contains("\"kind\" : \"mlp\""), text);
        assertTrue(text.lines().count() < 150, "number arrays stay on one line");
        // permuted rankings round trip as well
        assertEquals(RankingsJson.toJson(r.permuted()), RankingsJson.toJson(RankingsJson.parse(RankingsJson.toJson(r.permuted()), "x")));
    }

    private static String json() {
        return RankingsJson.toJson(RankingsTestData.random(ARCH, 5));
    }

    private static IOException parseError(String text) {
        return assertThrows(IOException.class, () -> RankingsJson.parse(text, "some/rankings.json"));
    }

    @Test
    void readingErrorsNameTheFileAndTheField() {
        IOException e = parseError(json().replace("\"version\" : 1", "\"version\" : 7"));
        assertTrue(e.getMessage().startsWith("some/rankings.json: field 'version' is 7"), e.getMessage());

        e = parseError(json().replace("\"version\" : 1,", ""));
        assertTrue(e.getMessage().contains("'version' is missing"), e.getMessage());

        e = parseError(json().replace("\"seqLen\"", "\"seqLength\""));
        assertTrue(e.getMessage().startsWith("some/rankings.json: field 'calibration.seqLen': Missing"), e.getMessage());

        e = parseError(json().replace("\"source\" :", "\"bogus\" : 1, \"source\" :"));
        assertTrue(e.getMessage().startsWith("some/rankings.json: field 'calibration.bogus'"), e.getMessage());

        e = parseError(json().replaceFirst("\"kind\" : \"attention\"", "\"kind\" : \"conv\""));
        assertTrue(e.getMessage().contains("layers[1]") && e.getMessage().contains("conv"), e.getMessage());

        e = parseError(json().replaceFirst(",\\s*\"rankingHeadDim\" : \\d+", ""));
        assertTrue(e.getMessage().contains("rankingHeadDim"), e.getMessage());

        e = parseError("{ \"version\" : 1, ");
        assertTrue(e.getMessage().startsWith("some/rankings.json: not valid JSON"), e.getMessage());

        e = assertThrows(IOException.class, () -> RankingsJson.read(dir.resolve("missing.json")));
        assertTrue(e.getMessage().contains("missing.json") && e.getMessage().contains("nestlm importance"), e.getMessage());
    }

    @Test
    void validationNamesTheField() throws IOException {
        Rankings good = RankingsTestData.random(ARCH, 6);
        // a Mamba group order that is not a permutation
        String text = RankingsJson.toJson(good);
        int[][] groups = ((Rankings.Mamba) good.layers().get(0)).groups();
        int[][] bad = {groups[0].clone(), groups[1].clone()};
        bad[1][0] = bad[1][1];
        Rankings.Mamba m = (Rankings.Mamba) good.layers().get(0);
        java.util.List<Rankings.Layer> layers = new java.util.ArrayList<>(good.layers());
        layers.set(0, new Rankings.Mamba(bad, m.headScores(), m.channels(), m.channelScores(), m.rankingHeadDim()));
        Rankings broken = new Rankings(good.version(), good.calibration(), good.hidden(), layers, good.depth());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> broken.validate(ARCH, "r.json"));
        assertTrue(e.getMessage().startsWith("r.json: layers[0].groups[1]: index"), e.getMessage());

        // a layer of the wrong kind
        layers.set(0, good.layers().get(1));
        Rankings wrongKind = new Rankings(good.version(), good.calibration(), good.hidden(), layers, good.depth());
        e = assertThrows(IllegalArgumentException.class, () -> wrongKind.validate(ARCH, "r.json"));
        assertTrue(e.getMessage().contains("layers[0]: kind is attention but layer 0 is mamba"), e.getMessage());

        // removing a protected layer
        Rankings.Depth d = new Rankings.Depth(new int[] {1}, new double[] {0.1}, new int[] {1, 5}, -1);
        Rankings protectedRemoved = new Rankings(good.version(), good.calibration(), good.hidden(), good.layers(), d);
        e = assertThrows(IllegalArgumentException.class, () -> protectedRemoved.validate(ARCH, "r.json"));
        assertTrue(e.getMessage().contains("removes protected layer 1"), e.getMessage());
        assertTrue(text.length() > 0);
    }

    @Test
    void depthKeptFlags() {
        Rankings.Depth d = new Rankings.Depth(new int[] {4, 2}, new double[] {0.1, 0.3}, new int[] {1, 5}, -1);
        boolean[] keep = d.kept(7, 2);
        assertArrayEquals(new boolean[] {true, true, false, true, false, true, true}, keep);
        assertThrows(IllegalArgumentException.class, () -> d.kept(7, 3));
    }
}
