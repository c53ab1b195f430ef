package org.nestlm.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.NoSuchFileException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CliSupportTest {

    @Test
    void aBarePathFromTheJdkGetsWhatWentWrong() {
        assertEquals("run/train_state.tmp: directory not empty",
                CliSupport.errorMessage(new DirectoryNotEmptyException("run/train_state.tmp")));
        assertEquals("run/x: no such file or directory", CliSupport.errorMessage(new NoSuchFileException("run/x")));
        // messages that explain themselves stay as they are
        assertEquals("a/config.json: no config.json (is this a checkpoint?)",
                CliSupport.errorMessage(new NoSuchFileException("a/config.json: no config.json (is this a checkpoint?)")));
        assertEquals("a: checkpoint path does not exist",
                CliSupport.errorMessage(new NoSuchFileException("a", null, "checkpoint path does not exist")));
        assertEquals("plain", CliSupport.errorMessage(new IOException("plain")));
    }
}
