package org.nestlm.cli;

import org.junit.jupiter.api.Test;
import org.nestlm.elastic.ElastifyConfig;
import org.nestlm.elastic.ImportanceConfig;
import org.nestlm.train.PretrainConfig;
import picocli.CommandLine;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The defaults of {@code pretrain}, {@code elastify} and {@code importance} are their settings records' defaults: the
 * value {@code --help} shows for every option is the record's, and a command given only its required flags builds
 * exactly the record's defaults.
 */
class ConfigDefaultsTest {

    @Test
    void pretrainHelpAndSettingsAreTheRecordsDefaults() {
        PretrainConfig d = PretrainConfig.defaults(100_000);
        String help = usage(new PretrainCommand());
        Map<String, Object> expected = Map.ofEntries(Map.entry("--seq-len", d.batching().seqLen()),
                Map.entry("--batch", d.batching().batchSize()), Map.entry("--accumulation", d.batching().accumulation()),
                Map.entry("--lr", d.schedule().peakLr()), Map.entry("--warmup", d.schedule().warmupSteps()),
                Map.entry("--weight-decay", d.optimizer().weightDecay()), Map.entry("--clip", d.optimizer().clipNorm()),
                Map.entry("--eval-every", d.cadence().evalEvery()), Map.entry("--eval-batches", d.cadence().evalBatches()),
                Map.entry("--checkpoint-every", d.cadence().checkpointEvery()), Map.entry("--seed", d.seed()));
        expected.forEach((option, value) -> assertShown(help, option, value));
        assertEquals(expected.keySet(), new PretrainCommand.Defaults().options(), "options with record defaults");

        PretrainCommand cmd = new PretrainCommand();
        new CommandLine(cmd).parseArgs("--preset", "tiny", "--tokens", "100000", "--out", "run");
        assertEquals(d, cmd.newConfig());
        cmd = new PretrainCommand();
        new CommandLine(cmd).parseArgs("--preset", "tiny", "--tokens", "100000", "--out", "run", "--lr", "1e-2");
        assertEquals(1e-2 / 10, cmd.newConfig().schedule().minLr(), "--min-lr follows a given --lr");
    }

    @Test
    void elastifyHelpAndSettingsAreTheRecordsDefaults() {
        List<String> budgets = List.of("1.0", "0.75", "0.5");
        ElastifyConfig d = ElastifyConfig.defaults(budgets, 100_000);
        String help = usage(new ElastifyCommand());
        Map<String, Object> expected = Map.ofEntries(Map.entry("--seq-len", d.batching().seqLen()),
                Map.entry("--stage2-multiplier", d.stages().stage2Multiplier()), Map.entry("--stage2-split", d.stages().stage2Split()),
                Map.entry("--stage1-fraction", d.stages().stage1Fraction()), Map.entry("--batch", d.batching().batchSize()),
                Map.entry("--accumulation", d.batching().accumulation()), Map.entry("--lr", d.rates().modelLr()),
                Map.entry("--router-lr", d.rates().routerLr()), Map.entry("--warmup", d.rates().warmupSteps()),
                Map.entry("--ce-weight", d.objective().ceWeight()),
                Map.entry("--interpolation-draws", d.objective().interpolationDraws()),
                Map.entry("--resolve-candidates", d.resolving().candidates()),
                Map.entry("--routing", "searched"), Map.entry("--full-weight", d.objective().fullWeight()),
                Map.entry("--eval-every", d.cadence().evalEvery()), Map.entry("--checkpoint-every", d.cadence().checkpointEvery()),
                Map.entry("--seed", d.seed()));
        expected.forEach((option, value) -> assertShown(help, option, value));
        assertEquals(expected.keySet(), new ElastifyCommand.Defaults().options(), "options with record defaults");

        ElastifyCommand cmd = new ElastifyCommand();
        new CommandLine(cmd).parseArgs("--teacher", "parent", "--budgets", "1.0,0.75,0.5", "--corpus", "default",
                "--tokens", "100000", "--out", "elastic");
        assertEquals(d, cmd.config(), "--hetero-mlp unset is the record's default too");
    }

    @Test
    void importanceHelpAndSettingsAreTheRecordsDefaults() {
        ImportanceConfig d = ImportanceConfig.defaults();
        String help = usage(new ImportanceCommand());
        Map<String, Object> expected = Map.of("--samples", d.samples(), "--seq-len", d.seqLen(),
                "--batch", d.estimator().batchSize(), "--depth-samples", d.estimator().depthSamples(),
                "--max-removals", d.estimator().depth().maxRemovals(),
                "--mamba-ranking-head-dim", d.estimator().mambaRankingHeadDim());
        expected.forEach((option, value) -> assertShown(help, option, value));
        assertEquals(expected.keySet(), new ImportanceCommand.Defaults().options(), "options with record defaults");

        ImportanceCommand cmd = new ImportanceCommand();
        new CommandLine(cmd).parseArgs("--model", "parent", "--corpus", "default");
        assertEquals(d, cmd.config());
    }

    /** {@code --help} with one line per option. */
    private static String usage(Object command) {
        CommandLine cl = new CommandLine(command);
        cl.setUsageHelpWidth(400);
        cl.setUsageHelpLongOptionsMaxWidth(60);
        return cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    private static final Pattern DEFAULT = Pattern.compile("\\(default:? (-?[0-9][0-9.eE+-]*|true|false|[a-z]+)");

    /** The help line of {@code option} shows {@code value} as its default. */
    private static void assertShown(String help, String option, Object value) {
        for (String line : help.split("\n")) {
            String negatable = "--[no-]" + option.substring(2);
            if (line.trim().startsWith(option + "=") || line.trim().startsWith(negatable + " ")) {
                Matcher m = DEFAULT.matcher(line);
                assertTrue(m.find(), option + " shows no default: " + line);
                String shown = m.group(1).replaceAll("\\.$", "");
                if (value instanceof Boolean || value instanceof String) {
                    assertEquals(value.toString(), shown, line);
                } else {
                    assertEquals(((Number) value).doubleValue(), Double.parseDouble(shown), 0.0, line);
                }
                return;
            }
        }
        fail(option + " is not in the help:\n" + help);
    }
}
