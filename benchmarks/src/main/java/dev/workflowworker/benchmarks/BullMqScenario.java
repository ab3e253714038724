package dev.workflowworker.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** BullMQ on Node against the same Redis, same run: the peer to beat. */
final class BullMqScenario {

    private BullMqScenario() {
    }

    static List<BenchmarkMain.Row> run(String url, int n, Path nodeDir) throws Exception {
        if (!Files.isDirectory(nodeDir.resolve("node_modules/bullmq"))) {
            return List.of(new BenchmarkMain.Row("bullmq", "no-op jobs", Double.NaN, "jobs/s",
                    "not run: bullmq not installed in " + nodeDir + " (run.sh installs it)"));
        }
        int concurrency = 100;
        Process p = new ProcessBuilder("node", "bullmq-bench.mjs", url, Integer.toString(n),
                Integer.toString(concurrency)).directory(nodeDir.toFile()).redirectErrorStream(true).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                last = line;
            }
        }
        int code = p.waitFor();
        if (code != 0 || last == null || !last.startsWith("{")) {
            throw new IllegalStateException("bullmq benchmark failed (exit " + code + "): " + last);
        }
        JsonNode result = new ObjectMapper().readTree(last);
        return List.of(new BenchmarkMain.Row("bullmq " + version(nodeDir), "no-op jobs", result.get("rate").asDouble(),
                "jobs/s", "concurrency " + concurrency + ", removeOnComplete, " + n + " jobs"));
    }

    private static String version(Path nodeDir) {
        try {
            return new ObjectMapper().readTree(nodeDir.resolve("node_modules/bullmq/package.json").toFile())
                    .get("version").asText();
        } catch (Exception e) {
            return "?";
        }
    }
}
