package dev.workflowworker.examples;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code Main} in a separate JVM with the test's own classpath (so it runs before the shaded jar
 * exists), its output in a file, and an HTTP client for its endpoints.
 */
final class ServeProcess implements AutoCloseable {

    private static final Pattern SERVING = Pattern.compile("serving on port (\\d+)");
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final Process process;
    final Path log;
    private int port = -1;

    private ServeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static ServeProcess start(Path log, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // The test's own environment must not leak into the child's configuration.
        pb.environment().keySet().removeIf(k -> List.of("REDIS_URL", "WORKER_STREAM", "WORKER_GROUP", "WORKER_PARTITIONS", "LOG_LEVEL", "PORT")
                .contains(k));
        pb.environment().putAll(env);
        return new ServeProcess(pb.start(), log);
    }

    String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }

    /** @return the port the service logged (it runs with {@code PORT=0}, so the OS picked a free one) */
    int awaitPort(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (port < 0) {
            Matcher m = SERVING.matcher(output());
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            } else if (!process.isAlive()) {
                throw new AssertionError("serve exited with " + process.exitValue() + " before serving:\n" + output());
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("serve did not report its port within " + timeout + ":\n" + output());
            } else {
                process.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
        return port;
    }

    HttpResponse<String> request(String path, String method) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return request(path, "GET");
    }

    /** Polls the health endpoint until {@code condition} holds for its body, failing after {@code timeout}. */
    String awaitHealth(Duration timeout, java.util.function.Predicate<HttpResponse<String>> condition, String what)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpResponse<String> r = get(ServiceMode.HEALTH_PATH);
        while (!condition.test(r)) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("waiting for " + what + "; last health " + r.statusCode() + " "
                        + r.body() + "\noutput:\n" + output());
            }
            process.waitFor(50, TimeUnit.MILLISECONDS);
            r = get(ServiceMode.HEALTH_PATH);
        }
        return r.body();
    }

    /** Sends SIGTERM ({@link Process#destroy()} on Linux) without waiting. */
    void sigterm() {
        process.destroy();
    }

    /** Waits for the exit code after {@link #sigterm()}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("no exit within " + timeout + ":\n" + output());
        }
        return process.exitValue();
    }

    /** Sends SIGTERM ({@link Process#destroy()} on Linux) and waits for the exit code. */
    int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("no exit within " + timeout + " of SIGTERM:\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
