package dev.workflowworker.examples;

import dev.workflowworker.core.WorkerConfig;
import dev.workflowworker.redis.RedisOptions;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The configuration table (docs/operations.md, linked from the README) says which object reads
 * each variable and which builder method sets it; this holds it to that, so a variable cannot
 * drift back to being read in two places or in none.
 */
class ReadmeConfigurationTableTest {

    /** Where the table lives, relative to this module. */
    private static final Path TABLE_DOC = Path.of("../docs/operations.md");

    record Row(String variable, String readBy, String method) {
    }

    private static List<Row> rows() throws Exception {
        List<Row> rows = new ArrayList<>();
        boolean inTable = false;
        for (String line : Files.readAllLines(TABLE_DOC)) {
            if (line.startsWith("| variable | read by |")) {
                inTable = true;
            } else if (inTable && !line.startsWith("|")) {
                break;
            } else if (inTable && !line.startsWith("|---")) {
                String[] cells = line.split("\\|");
                rows.add(new Row(unquote(cells[1]), unquote(cells[2]), unquote(cells[3])));
            }
        }
        return rows;
    }

    private static String unquote(String cell) {
        return cell.trim().replace("`", "");
    }

    @Test
    void eachVariableIsReadByTheObjectTheTableNamesAndByNoOther() throws Exception {
        List<Row> rows = rows();
        assertEquals(18, rows.size(), "rows of the configuration table in docs/operations.md: " + rows);
        String configDefaults = WorkerConfig.defaults().toString();
        String redisDefaults = RedisOptions.builder().build().toString();
        for (Row row : rows) {
            switch (row.readBy()) {
                case "WorkerConfig" -> {
                    // Every engine variable is a number, so a word is malformed for each of them.
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> WorkerConfig.fromEnvironment(Map.of(row.variable(), "word")), row.toString());
                    assertTrue(e.getMessage().startsWith(row.variable() + "=word"), e.getMessage());
                    assertEquals(redisDefaults, RedisOptions.fromEnvironment(Map.of(row.variable(), "word")).toString(),
                            row.toString());
                    assertTrue(hasSetter(WorkerConfig.Builder.class, row.method()), row.toString());
                }
                case "RedisOptions" -> {
                    String value = switch (row.variable()) {
                        case "REDIS_URL" -> "redis://elsewhere:6380";
                        case "WORKER_PARTITIONS", "REDIS_WAIT_REPLICAS" -> "1";
                        case "REDIS_WAIT_TIMEOUT_MS" -> "250";
                        default -> "elsewhere";
                    };
                    Map<String, String> env = Map.of(row.variable(), value);
                    assertTrue(!RedisOptions.fromEnvironment(env).toString().equals(redisDefaults), row.toString());
                    assertEquals(configDefaults, WorkerConfig.fromEnvironment(env).toString(), row.toString());
                    assertTrue(hasSetter(RedisOptions.Builder.class, row.method()), row.toString());
                }
                default -> throw new AssertionError("unknown reader in " + row);
            }
        }
    }

    private static boolean hasSetter(Class<?> builder, String name) {
        return Arrays.stream(builder.getMethods()).map(Method::getName).anyMatch(name::equals);
    }
}
