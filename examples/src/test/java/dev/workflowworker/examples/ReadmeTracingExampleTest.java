package dev.workflowworker.examples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tracing guide's example (docs/tracing.md) is this module's TracingExample, verbatim, and it
 * prints one trace.
 */
class ReadmeTracingExampleTest {

    private static final String BEGIN = "// BEGIN TRACING GUIDE EXAMPLE (docs/tracing.md)";
    private static final String END = "// END TRACING GUIDE EXAMPLE";

    @Test
    void tracingGuideExampleIsTheCompiledSource() throws Exception {
        String source = Files.readString(Path.of("src/main/java/dev/workflowworker/examples/TracingExample.java"));
        String fromSource = source.substring(source.indexOf(BEGIN) + BEGIN.length(), source.indexOf(END)).strip();
        String guide = Files.readString(Path.of("../docs/tracing.md"));
        int marker = guide.indexOf("<!-- tracing-example -->");
        assertTrue(marker >= 0, "docs/tracing.md has no <!-- tracing-example --> marker");
        int start = guide.indexOf("```java", marker) + "```java".length();
        assertEquals(fromSource, guide.substring(start, guide.indexOf("```", start)).strip(),
                "docs/tracing.md's tracing example drifted from TracingExample.java");
    }

    @Test
    void tracingExamplePrintsOneTraceFromRequestThroughTheRetry() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            TracingExample.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().collect(Collectors.toList());
        // request, publish, two attempts, a charge span in each
        assertEquals(6, lines.size(), String.join("\n", lines));
        String traceId = lines.get(0).split(" ")[0];
        assertTrue(lines.stream().allMatch(l -> l.startsWith(traceId + " ")), "one trace:\n" + String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("CONSUMER process workflow:events:global ERROR")
                && l.contains("retry_scheduled")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("CONSUMER process workflow:events:global UNSET")),
                String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("PRODUCER publish workflow:events:global")),
                String.join("\n", lines));
    }
}
