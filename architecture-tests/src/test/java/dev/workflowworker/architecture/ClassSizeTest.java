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
 * No main class of worker-redis or worker-core is over {@value #MAX_LINES} lines, counting every
 * line of its source file (javadoc and blank lines too), so that no class grows back into one that
 * does many jobs (docs/ARCHITECTURE.md, "Modules"). ArchUnit sees bytecode, which does not know a
 * file's length, so this reads the sources.
 */
class ClassSizeTest {

    static final int MAX_LINES = 500;

    /** Maven runs the tests of this module in its own directory; the modules are its siblings. */
    private static final Path REDIS_MAIN = mainSources("worker-redis");
    private static final Path CORE_MAIN = mainSources("worker-core");

    @Test
    void noMainClassOfWorkerRedisIsOverTheLimit() {
        assertNoneOver(REDIS_MAIN, "dev/workflowworker/redis/RedisOptions.java");
    }

    @Test
    void noMainClassOfWorkerCoreIsOverTheLimit() {
        assertNoneOver(CORE_MAIN, "dev/workflowworker/core/WorkerService.java");
    }

    private static Path mainSources(String module) {
        return Path.of("..", module, "src", "main", "java");
    }

    /** {@code known} is a source that must be there: a walk over the wrong directory would find nothing and pass. */
    private static void assertNoneOver(Path root, String known) {
        assertTrue(Files.isDirectory(root), "sources not found at " + root.toAbsolutePath());
        Map<String, Integer> all = lineCounts(root);
        assertTrue(all.containsKey(known), "walked " + all.keySet());
        assertTrue(all.size() > 50, "only " + all.size() + " sources under " + root.toAbsolutePath());
        assertEquals(Map.of(), over(all, MAX_LINES), "classes over " + MAX_LINES + " lines under " + root);
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
