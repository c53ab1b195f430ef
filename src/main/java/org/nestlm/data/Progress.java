package org.nestlm.data;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on standard error for long work (fetching, pre-tokenizing, merging, encoding), or nothing at all
 * when disabled (tests, {@code --quiet}). Thread-safe: the underlying bar's counter is atomic.
 */
public final class Progress implements AutoCloseable {

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /**
     * @param unit     unit name shown next to the counts, e.g. "MB"; empty for plain counts
     * @param unitSize how many steps make one unit, e.g. 1_000_000 for bytes shown as MB
     */
    public static Progress start(boolean enabled, String task, long max, String unit, long unitSize) {
        if (!enabled) {
            return new Progress(null);
        }
        ProgressBarBuilder b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII)      // Unicode blocks garble in some CI logs
                .setUpdateIntervalMillis(250)
                .showSpeed();
        if (!unit.isEmpty()) {
            b.setUnit(" " + unit, unitSize);
        }
        return new Progress(b.build());
    }

    public static Progress start(boolean enabled, String task, long max) {
        return start(enabled, task, max, "", 1);
    }

    public void step(long n) {
        if (bar != null) {
            bar.stepBy(n);
        }
    }

    public void message(String text) {
        if (bar != null) {
            bar.setExtraMessage(text);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
