package dev.workflowworker.architecture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No main class of worker-redis is over {@value #MAX_LINES} lines, counting every line of its source
 * file (javadoc and blank lines too), so that no class grows back into one that does many jobs
 * (docs/ARCHITECTURE.md, "Modules"). ArchUnit sees bytecode, which does not know a file's length,
 * so this reads the sources.
 */
class ClassSizeTest {

    static final int MAX_LINES = 500;

    /** Maven runs the tests of this module in its own directory; the modules are its siblings. */
    private static final Path REDIS_MAIN = Path.of("..", "worker-redis", "src", "main", "java");

    @Test
    void noMainClassOfWorkerRedisIsOverTheLimit() {
        assertTrue(Files.isDirectory(REDIS_MAIN), "worker-redis sources not found at " + REDIS_MAIN.toAbsolutePath());
        Map<String, Integer> all = lineCounts(REDIS_MAIN);
        // a walk over the wrong directory would find nothing and pass
        assertTrue(all.containsKey("dev/workflowworker/redis/RedisOptions.java"), "walked " + all.keySet());
        assertTrue(all.size() > 50, "only " + all.size() + " sources under " + REDIS_MAIN.toAbsolutePath());
        assertEquals(Map.of(), over(all, MAX_LINES), "classes over " + MAX_LINES + " lines");
    }

    @Test
    void theRuleFailsOnA501LineClassAndNotOnA500LineOne(@TempDir Path root) throws IOException {
        Path pkg = Files.createDirectories(root.resolve("dev/workflowworker/redis/internal"));
        Files.write(pkg.resolve("Fits.java"), lines(MAX_LINES));
        Files.write(pkg.resolve("TooLong.java"), lines(MAX_LINES + 1));
        Files.writeString(pkg.resolve("notes.txt"), String.join("\n", lines(MAX_LINES + 50)));

        assertEquals(Map.of("dev/workflowworker/redis/internal/TooLong.java", MAX_LINES + 1),
                over(lineCounts(root), MAX_LINES));
    }

    @Test
    void aLastLineWithoutANewlineCountsAndATrailingNewlineAddsNone(@TempDir Path root) throws IOException {
        Files.writeString(root.resolve("A.java"), "class A {\n}\n");
        Files.writeString(root.resolve("B.java"), "class B {\n}");
        assertEquals(Map.of("A.java", 2, "B.java", 2), lineCounts(root));
    }

    private static List<String> lines(int n) {
        return Collections.nCopies(n, "// line");
    }

    /** {@return the line count of every {@code .java} file under root, by path relative to it with '/'} */
    static Map<String, Integer> lineCounts(Path root) {
        Map<String, Integer> counts = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                counts.put(root.relativize(f).toString().replace('\\', '/'), Files.readAllLines(f).size());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return counts;
    }

    static Map<String, Integer> over(Map<String, Integer> counts, int max) {
        Map<String, Integer> over = new TreeMap<>();
        counts.forEach((file, n) -> {
            if (n > max) {
                over.put(file, n);
            }
        });
        return over;
    }
}
