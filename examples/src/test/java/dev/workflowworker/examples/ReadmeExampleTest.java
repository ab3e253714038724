package dev.workflowworker.examples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's embedding example is this module's EmbeddingExample, verbatim, so it always compiles and runs. */
class ReadmeExampleTest {

    private static final String BEGIN = "// BEGIN README EMBEDDING EXAMPLE";
    private static final String END = "// END README EMBEDDING EXAMPLE";

    @Test
    void readmeEmbeddingExampleIsTheCompiledSource() throws Exception {
        String source = Files.readString(Path.of("src/main/java/dev/workflowworker/examples/EmbeddingExample.java"));
        String fromSource = source.substring(source.indexOf(BEGIN) + BEGIN.length(), source.indexOf(END)).strip();
        String readme = Files.readString(Path.of("../README.md"));
        int start = readme.indexOf("```java", readme.indexOf("<!-- embedding-example -->")) + "```java".length();
        String fromReadme = readme.substring(start, readme.indexOf("```", start)).strip();
        assertEquals(fromSource, fromReadme, "README.md's embedding example drifted from EmbeddingExample.java");
    }

    @Test
    void embeddingExampleRuns() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            EmbeddingExample.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("ticket T-42"), out);
        assertTrue(out.contains("charging C-7 key=exec-2:"), out);
        assertTrue(out.contains("\"eventsSucceeded\":2"), out);
    }
}
